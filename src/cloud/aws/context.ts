/**
 * Everything the AWS job needs to reach EC2, resolved lazily and cached once known
 * (docs/cloud-routes.md §Start-up never needs the cloud): region, endpoint, credentials and this
 * host's ENIs. Building it touches nothing; the first route-table read does the lookups, and a
 * failed lookup is retried by the next read.
 */
import type { HttpFetch } from "../http.ts";
import { createCredentialsProvider, type CredentialsProvider } from "./credentials.ts";
import { createEc2Client, type Ec2Client } from "./ec2.ts";
import { bindInterfaces, eniForVpc, localAddresses, readImdsNics, type EniBinding, type LocalAddresses } from "./eni.ts";
import { createImdsClient, type ImdsClient } from "./imds.ts";
import { configuredRegion, ec2Endpoint, metadataEndpoint, type AwsPlaces, type Env } from "./settings.ts";

export interface AwsContextOptions {
  readonly places: AwsPlaces;
  /** Given in config: no ENI lookup, every table routes to it. */
  readonly networkInterfaceId?: string;
  /** bridge_interface first, then secondary_interfaces. */
  readonly interfaces: readonly string[];
  readonly env: Env;
  readonly fetch: HttpFetch;
  readonly now?: () => number;
  /** Tests: the addresses of an interface (default: this host's). */
  readonly localAddresses?: (ifname: string) => LocalAddresses;
}

export interface AwsContext {
  readonly ec2: Ec2Client;
  readonly credentials: CredentialsProvider;
  /** The ENI for a table in `vpcId`; throws when this host has no interface in that VPC. */
  eniFor(vpcId: string | undefined, signal: AbortSignal): Promise<string>;
  /** What is known so far (status). */
  known(): { region?: string; endpoint?: string; enis?: readonly EniBinding[]; credentials?: string };
}

/** Runs `work` once at a time; caches a success, forgets a failure (the next caller tries again). */
function lazy<T>(work: (signal: AbortSignal) => Promise<T>): { get(signal: AbortSignal): Promise<T>; value(): T | undefined } {
  let value: { v: T } | undefined;
  let inFlight: Promise<T> | undefined;
  return {
    async get(signal) {
      if (value) return value.v;
      inFlight ??= work(signal)
        .then((v) => ((value = { v }), v))
        .finally(() => (inFlight = undefined));
      return await inFlight;
    },
    value: () => value?.v,
  };
}

export function createAwsContext(options: AwsContextOptions): AwsContext {
  const imdsEndpoint = metadataEndpoint(options.places, options.env);
  const imds: ImdsClient | undefined = imdsEndpoint === undefined ? undefined : createImdsClient({ endpoint: imdsEndpoint, fetch: options.fetch, ...(options.now ? { now: options.now } : {}) });
  const needImds = (what: string): ImdsClient => {
    if (!imds) throw new Error(`${what} unknown and IMDS is disabled (AWS_EC2_METADATA_DISABLED); set it in config`);
    return imds;
  };
  const place = lazy(async (signal) => {
    let region = configuredRegion(options.places, options.env);
    if (!region) {
      region = (await needImds("region").get("placement/region", signal))?.trim();
      if (!region) throw new Error("region unknown: IMDS placement/region is empty; set aws.region or AWS_REGION");
    }
    return { region, endpoint: ec2Endpoint(options.places, options.env, region) };
  });
  const enis = lazy(async (signal): Promise<EniBinding[]> => {
    if (options.networkInterfaceId) return [{ interface: "(config)", eni: options.networkInterfaceId }];
    const nics = await readImdsNics(needImds("network_interface_id"), signal);
    return bindInterfaces(options.interfaces, options.localAddresses ?? localAddresses, nics);
  });
  const credentials = createCredentialsProvider({ env: options.env, ...(imds ? { imds } : {}), ...(options.now ? { now: options.now } : {}) });
  const ec2 = createEc2Client({ place: (signal) => place.get(signal), credentials, fetch: options.fetch, ...(options.now ? { now: options.now } : {}) });
  return {
    ec2,
    credentials,
    async eniFor(vpcId, signal) {
      const eni = eniForVpc(await enis.get(signal), vpcId);
      if (!eni) throw new Error(`this host has no interface in ${vpcId} (list it in secondary_interfaces)`);
      return eni;
    },
    known() {
      const p = place.value();
      const e = enis.value();
      const c = credentials.source();
      return { ...(p ? { region: p.region, endpoint: p.endpoint } : {}), ...(e ? { enis: e } : {}), ...(c ? { credentials: c } : {}) };
    },
  };
}
