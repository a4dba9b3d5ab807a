/**
 * Where the AWS job talks to, from config and the variables the official SDKs honour, pure
 * (docs/cloud-routes.md §Endpoints): a config key wins over the environment, the environment
 * over the defaults; nothing here touches the network.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export const defaultMetadataEndpoint = "http://169.254.169.254";

/** The vpnham additions under `aws:` that say where to go (all optional). */
export interface AwsPlaces {
  readonly region?: string;
  readonly endpoint?: string;
  readonly metadataEndpoint?: string;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim());

/** The region when config or environment name one (else IMDS must say). */
export function configuredRegion(places: AwsPlaces, env: Env): string | undefined {
  return nonEmpty(places.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
}

/** EC2's Query API base URL: config, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, else the region's public endpoint. */
export function ec2Endpoint(places: AwsPlaces, env: Env, region: string): string {
  const given = nonEmpty(places.endpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_EC2) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (given) return given.endsWith("/") ? given : `${given}/`;
  return region.startsWith("cn-") ? `https://ec2.${region}.amazonaws.com.cn/` : `https://ec2.${region}.amazonaws.com/`;
}

/** IMDS base URL, or undefined when AWS_EC2_METADATA_DISABLED is true (then region, credentials and ENI must be given). */
export function metadataEndpoint(places: AwsPlaces, env: Env): string | undefined {
  if (nonEmpty(places.metadataEndpoint)) return places.metadataEndpoint!.trim().replace(/\/+$/, "");
  if ((env.AWS_EC2_METADATA_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  return (nonEmpty(env.AWS_EC2_METADATA_SERVICE_ENDPOINT) ?? defaultMetadataEndpoint).replace(/\/+$/, "");
}
