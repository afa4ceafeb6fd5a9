// Turns etcd client / gRPC failures into short causes a user can act on (pure). gRPC wraps the
// interesting part ("Last error: connect ECONNREFUSED ...") in a lot of noise.

export interface Failure {
  /** 'transport': the server could not be reached or talked to; 'auth': it refused who we are. */
  kind: 'transport' | 'auth' | 'other';
  cause: string;
}

/** The underlying socket/TLS error inside a gRPC UNAVAILABLE message, if there is one. */
function lastError(msg: string): string | undefined {
  const m = /Last error: (?:Error: )?([\s\S]*?)(?: \(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*(?:Resolution note:|$)/.exec(msg);
  return m?.[1]?.trim() || undefined;
}

export function describeFailure(e: unknown, timeoutMs: number): Failure {
  const name = e instanceof Error ? e.constructor.name : '';
  const msg = e instanceof Error ? e.message : String(e);
  const detail = lastError(msg) ?? msg;
  const t = (cause: string): Failure => ({ kind: 'transport', cause });

  if (name === 'EtcdAuthenticationFailedError' || /authentication failed/i.test(msg)) {
    return { kind: 'auth', cause: 'authentication failed: invalid etcd username or password' };
  }
  if (name === 'EtcdPermissionDeniedError' || /permission denied/i.test(msg)) {
    return { kind: 'auth', cause: 'permission denied (the etcd user may not access /calico/)' };
  }
  if (/user name is empty|invalid auth token|GRPCUnauthenticated/i.test(`${name} ${msg}`)) {
    return { kind: 'auth', cause: 'authentication required: set the etcd username and password' };
  }
  if (/ECONNREFUSED/.test(detail)) return t('connection refused');
  if (/ENOTFOUND|EAI_AGAIN/.test(detail)) return t('host name not found');
  if (/EHOSTUNREACH|ENETUNREACH/.test(detail)) return t('host unreachable');
  if (/ECONNRESET/.test(detail)) return t('connection reset by the server');
  if (/Connection dropped|EtcdWatchStreamEnded|stream ended/i.test(`${name} ${detail}`)) return t('connection lost');
  if (/alert (bad certificate|certificate required|handshake failure|unknown ca)/i.test(detail)) {
    return t('TLS handshake failed: the server did not accept our client certificate (none given, or not signed by a CA it trusts)');
  }
  if (/unable to verify|self[- ]signed|certificate has expired|unable to get (local )?issuer/i.test(detail)) {
    return t(`TLS: the server's certificate is not trusted (${detail.split('\n')[0]}); check the CA certificate`);
  }
  if (/Hostname\/IP does not match|altnames/i.test(detail)) {
    return t(`TLS: the server's certificate does not name this host (${detail.split('\n')[0]})`);
  }
  if (/before secure TLS connection was established|wrong version number|packet length too long/i.test(detail)) {
    return t('TLS handshake failed: the server does not speak TLS here (use an http:// endpoint?)');
  }
  if (/^Failed to connect$/i.test(detail)) {
    return t('the connection failed (if the server uses TLS, the endpoint must start with https://)');
  }
  if (name === 'GRPCDeadlineExceededError' || /DEADLINE_EXCEEDED|deadline exceeded/i.test(msg)) {
    return t(`no answer within ${timeoutMs / 1000} s`);
  }
  if (name === 'GRPCUnavailableError' || /UNAVAILABLE/.test(msg)) return t(detail.split('\n')[0]!.replace(/^14 UNAVAILABLE: /, ''));
  if (name === 'ClientClosedError') return { kind: 'other', cause: 'the datastore client was closed' };
  return { kind: 'other', cause: msg.split('\n')[0]! };
}

/**
 * Whether a failed request certainly never reached the server, so that sending it again
 * cannot apply a write twice.
 */
export function neverSent(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /No connection established|ECONNREFUSED|Failed to connect/i.test(msg);
}
