/** Where the daemon listens unless `control.socket_path` says otherwise. */
export const defaultControlSocketPath = "/run/vpnham/vpnham.sock";
