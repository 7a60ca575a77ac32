/** Why a service could not be rendered (for one cluster, or at all): a condition reason and message. */
export interface RenderError {
  /** CamelCase, for a condition's or an attention entry's reason. */
  reason:
    | 'ConfigMapNotFound'
    | 'ConfigMapKeyNotFound'
    | 'InvalidSource'
    | 'InvalidPatch'
    | 'PatchFailed'
    | 'UnresolvedVariable'
    | 'InvalidManifest'
    | 'TooLarge'
    /** helm or kustomize refused a Git or Helm origin's content (their message). */
    | 'RenderFailed'
    /** A chart waits for its cluster to report its version and served APIs. */
    | 'AwaitingCapabilities';
  /** Names the manifest (index, kind, name), the override and the variable involved, as they apply. */
  message: string;
}
