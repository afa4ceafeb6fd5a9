// Object metadata and the common resource envelope of projectcalico.org/v3.

export const API_VERSION = 'projectcalico.org/v3' as const;
export type ApiVersion = typeof API_VERSION;

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  /** The etcd mod revision of the stored object (decimal string). */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  generateName?: string;
}

/** The shape every v3 (and IPAM) resource shares. */
export interface ResourceOf<K extends string, S> {
  apiVersion: ApiVersion;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}
