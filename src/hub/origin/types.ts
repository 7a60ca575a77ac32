// Inputs every origin shares.

/**
 * What the hub may use to reach an origin, as read from the service's secretRef Secret. Each field
 * goes only to the tool run for that origin, and is scrubbed from every message it prints.
 */
export interface OriginCredentials {
  /** Basic auth, with password (HTTPS Git, chart repositories, OCI registries). */
  username?: string;
  password?: string;
  /** `Authorization: Bearer …` (HTTPS Git, chart repositories; an OCI registry token). */
  bearerToken?: string;
  /** An unencrypted OpenSSH private key (ssh Git URLs). */
  sshPrivateKey?: string;
  /** known_hosts lines for the ssh server: required for ssh URLs, nothing else is trusted. */
  knownHosts?: string;
  /** PEM certificates to trust for HTTPS besides the system's. */
  caCert?: string;
}

/** What the hub lets GlobalServices fetch beyond https and ssh (hub flags, off in production). */
export interface OriginPolicy {
  /** `file://` URLs and local paths (--allow-local-sources): only for tests, they expose the hub's own disk. */
  allowLocal: boolean;
  /** `http://` Git and chart repositories, `git://` (--allow-insecure-sources): only for tests, nothing secures them. */
  allowInsecure: boolean;
}
