// The CNI_* environment a runtime hands to a plugin, and CNI_ARGS ("K=V;K=V"). Bad or missing
// variables are the spec's code 4 and the message names the variable.

import { CniCode, CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface CniEnv {
  command: CniCommand;
  containerID: string;
  /** Path of the container's network namespace; may be empty on DEL. */
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs, in order. */
  args: Map<string, string>;
  /** CNI_PATH split on ':' (empty entries dropped). */
  path: string[];
}

/** Keys this plugin understands in CNI_ARGS (what kubelet and container runtimes pass). */
export const KNOWN_ARGS = ['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID'] as const;

function invalidEnv(msg: string): CniError {
  return new CniError(CniCode.invalidEnvironment, msg);
}

/** Booleans as libcni reads them in CNI_ARGS: 1/0 and true/false in any case. */
export function parseArgBool(name: string, v: string): boolean {
  const l = v.toLowerCase();
  if (l === '1' || l === 'true') return true;
  if (l === '0' || l === 'false') return false;
  throw invalidEnv(`CNI_ARGS: ${name}=${v}: expected true, false, 1 or 0`);
}

/**
 * Parses CNI_ARGS. Unknown keys are refused unless IgnoreUnknown is true (as libcni's LoadArgs
 * does), so a typo such as K8S_POD_NAMES is reported instead of silently ignored.
 */
export function parseCniArgs(raw: string, known: readonly string[] = KNOWN_ARGS): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === '') return out;
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw invalidEnv(`CNI_ARGS: ${JSON.stringify(pair)} is not a KEY=VALUE pair`);
    const key = pair.slice(0, i);
    if (out.has(key)) throw invalidEnv(`CNI_ARGS: ${key} is given more than once`);
    out.set(key, pair.slice(i + 1));
  }
  const ignore = out.has('IgnoreUnknown') && parseArgBool('IgnoreUnknown', out.get('IgnoreUnknown')!);
  if (!ignore) {
    const unknown = [...out.keys()].filter((k) => !known.includes(k));
    if (unknown.length) throw invalidEnv(`CNI_ARGS: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (set IgnoreUnknown=1 to ignore)`);
  }
  return out;
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function checkIfName(v: string): void {
  if (v.length > 15) throw invalidEnv(`CNI_IFNAME: ${JSON.stringify(v)} is longer than 15 characters`);
  if (v === '.' || v === '..' || /[/:\s]/.test(v)) throw invalidEnv(`CNI_IFNAME: ${JSON.stringify(v)} is not a valid interface name`);
}

/** Reads the environment of one plugin call; which variables are required depends on the command. */
export function parseCniEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env['CNI_COMMAND'] ?? '';
  if (!command) throw invalidEnv('CNI_COMMAND is not set (expected ADD, DEL, CHECK or VERSION)');
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalidEnv(`CNI_COMMAND: unknown command ${JSON.stringify(command)} (expected ADD, DEL, CHECK or VERSION)`);
  }
  const cmd = command as CniCommand;
  const get = (name: string) => env[name] ?? '';
  if (cmd === 'VERSION') return { command: cmd, containerID: '', netns: '', ifName: '', args: new Map(), path: [] };

  const missing: string[] = [];
  const required = cmd === 'DEL' ? ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'] : ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'];
  for (const name of required) if (!get(name)) missing.push(name);
  if (missing.length) throw invalidEnv(`required environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set for ${cmd}`);

  const containerID = get('CNI_CONTAINERID');
  if (!CONTAINER_ID.test(containerID)) {
    throw invalidEnv(`CNI_CONTAINERID: ${JSON.stringify(containerID)} must start with a letter or digit and hold only letters, digits, "_", "." and "-"`);
  }
  const ifName = get('CNI_IFNAME');
  checkIfName(ifName);
  return {
    command: cmd,
    containerID,
    netns: get('CNI_NETNS'),
    ifName,
    args: parseCniArgs(get('CNI_ARGS')),
    path: get('CNI_PATH').split(':').filter(Boolean),
  };
}

/** The pod a call is for (kubelet passes it in CNI_ARGS). */
export interface PodRef {
  namespace: string;
  name: string;
}

export function podOf(env: CniEnv): PodRef {
  const namespace = env.args.get('K8S_POD_NAMESPACE') ?? '';
  const name = env.args.get('K8S_POD_NAME') ?? '';
  const missing = [!namespace && 'K8S_POD_NAMESPACE', !name && 'K8S_POD_NAME'].filter(Boolean);
  if (missing.length) {
    throw invalidEnv(`CNI_ARGS: ${missing.join(' and ')} missing: tabby serves Kubernetes pods and needs both to name the workload endpoint and the host-side interface`);
  }
  return { namespace, name };
}
