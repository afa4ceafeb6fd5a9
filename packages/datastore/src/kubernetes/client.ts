// The HTTP side of the Kubernetes backend: @kubernetes/client-node's KubeConfig supplies the
// server, TLS material and credentials (kubeconfig file, in-cluster service account, or an
// explicit endpoint/token); requests are plain JSON over node:http(s) with the agent and headers
// the KubeConfig computes, so every Calico kind goes through one code path. Watches use the
// client's own Watch (see watch.ts). Failures become the datastore's typed errors.
// The client library is imported on first use: it takes over a second to load, which every
// etcd-mode process (CNI plugin calls above all) would otherwise pay too.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, ConnectionError, DatastoreError, InvalidArgumentError } from '../errors.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface KubeOptions {
  /** A kubeconfig file. Without one: $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** Overrides the server (CalicoAPIConfig k8sAPIEndpoint / K8S_API_ENDPOINT). */
  apiEndpoint?: string;
  /** A bearer token (k8sAPIToken / K8S_API_TOKEN). */
  token?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipTLSVerify?: boolean;
  /** Time budget of one request (default 10 s). */
  timeoutMs?: number;
  /** First delay before a broken watch reconnects (default 200 ms, doubling to 5 s). */
  watchRetryMs?: number;
}

/** A failed request: the HTTP status and the Kubernetes Status reason, if the server sent one. */
export class KubeApiError extends DatastoreError {
  override name = 'KubeApiError';
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

let library: Promise<typeof import('@kubernetes/client-node')> | undefined;
/** @kubernetes/client-node, loaded once, on first use. */
export function clientLibrary(): Promise<typeof import('@kubernetes/client-node')> {
  library ??= import('@kubernetes/client-node');
  return library;
}

/** Where the settings come from; checked without loading anything, so mistakes show at once. */
export type KubeSource = { kind: 'file'; file: string } | { kind: 'in-cluster' } | { kind: 'explicit' };

export function kubeSourceOf(opts: KubeOptions, env: NodeJS.ProcessEnv = process.env): KubeSource {
  const file = opts.kubeconfig ?? env['KUBECONFIG'] ?? (existsSync(join(homedir(), '.kube', 'config')) ? join(homedir(), '.kube', 'config') : undefined);
  if (file) {
    // KUBECONFIG may list several files; the first that exists is used.
    const first = file.split(':').find((f) => f && existsSync(f));
    if (!first) throw new ConfigError(`kubeconfig ${file} does not exist`);
    return { kind: 'file', file: first };
  }
  if (env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) return { kind: 'in-cluster' };
  if (opts.apiEndpoint) return { kind: 'explicit' };
  throw new ConfigError('no Kubernetes API to talk to: set KUBECONFIG (or kubeconfig in the config file), K8S_API_ENDPOINT, or run in a pod');
}

/** 401/403: the API server refused who we are or what we asked (a ConnectionError: nothing to retry). */
export class KubeRefusedError extends ConnectionError {
  override name = 'ConnectionError';
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Builds the KubeConfig the options ask for, the way Calico's client does. */
export async function loadKubeConfig(opts: KubeOptions, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig> {
  const source = kubeSourceOf(opts, env);
  const { KubeConfig } = await clientLibrary();
  const kc = new KubeConfig();
  try {
    if (source.kind === 'file') kc.loadFromFile(source.file);
    else if (source.kind === 'in-cluster') kc.loadFromCluster();
  } catch (e) {
    throw new ConfigError(`cannot load kubeconfig ${source.kind === 'file' ? source.file : '(in-cluster)'}: ${(e as Error).message}`);
  }
  if (opts.apiEndpoint || opts.token || opts.caFile || opts.certFile || opts.insecureSkipTLSVerify) {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    const server = opts.apiEndpoint ?? cluster?.server;
    if (!server) throw new ConfigError('no Kubernetes API server: set K8S_API_ENDPOINT or use a kubeconfig');
    kc.loadFromClusterAndUser(
      {
        name: 'tabby', server,
        skipTLSVerify: opts.insecureSkipTLSVerify ?? cluster?.skipTLSVerify ?? false,
        ...(opts.caFile ? { caFile: opts.caFile } : cluster?.caFile ? { caFile: cluster.caFile } : {}),
        ...(cluster?.caData && !opts.caFile ? { caData: cluster.caData } : {}),
      },
      {
        name: 'tabby',
        ...(opts.token ? { token: opts.token } : user?.token ? { token: user.token } : {}),
        ...(opts.certFile ? { certFile: opts.certFile } : user?.certFile ? { certFile: user.certFile } : {}),
        ...(opts.keyFile ? { keyFile: opts.keyFile } : user?.keyFile ? { keyFile: user.keyFile } : {}),
        ...(user?.certData && !opts.certFile ? { certData: user.certData } : {}),
        ...(user?.keyData && !opts.keyFile ? { keyData: user.keyData } : {}),
        ...(user?.authProvider && !opts.token ? { authProvider: user.authProvider } : {}),
      },
    );
  }
  return kc;
}

/** Short causes for socket failures, as the etcd backend words them. */
function socketCause(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host name not found';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    case 'ECONNRESET': return 'connection reset by the server';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY': case 'CERT_HAS_EXPIRED':
      return `TLS: the server's certificate is not trusted (${e.message}); check the CA in the kubeconfig or K8S_CA_FILE`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return `TLS: the server's certificate does not name this host (${e.message})`;
    default: return e.message;
  }
}

export class KubeClient {
  readonly server: string;
  readonly timeoutMs: number;

  constructor(readonly kc: KubeConfig, timeoutMs = 10_000) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ConfigError('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.timeoutMs = timeoutMs;
  }

  /** One JSON request; resolves with the parsed body of a 2xx answer, else rejects with a typed error. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Json> {
    const url = new URL(this.server + path);
    const opts: RequestOptions = { method, headers: { Accept: 'application/json' } };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new ConfigError(`Kubernetes client settings: ${(e as Error).message}`);
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) opts.headers = { ...opts.headers, 'Content-Type': contentType, 'Content-Length': String(payload.length) };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Json>((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new ConnectionError(`Kubernetes API at ${this.server}: ${socketCause(e)}`, e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: Json | undefined;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            if (!parsed) reject(new DatastoreError(`Kubernetes API at ${this.server}: ${method} ${path}: the answer is not JSON`));
            else resolve(parsed);
            return;
          }
          const reason = String(parsed?.['reason'] ?? '');
          const message = String(parsed?.['message'] ?? (text.slice(0, 200) || res.statusMessage || `HTTP ${code}`));
          if (code === 401 || code === 403) reject(new KubeRefusedError(code, `Kubernetes API at ${this.server} refused the request (${code} ${reason || res.statusMessage}): ${message}`));
          else if (code === 400 || code === 422) reject(new InvalidArgumentError(`Kubernetes API: ${message}`));
          else if (code >= 500 || code === 429) reject(new ConnectionError(`Kubernetes API at ${this.server}: ${code} ${reason || res.statusMessage}: ${message}`));
          else reject(new KubeApiError(code, reason, message));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const cause = e.code === 'ETIMEDOUT' ? `no answer within ${this.timeoutMs / 1000} s` : socketCause(e);
        reject(new ConnectionError(`cannot reach the Kubernetes API at ${this.server}: ${cause}`, e));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }
}
