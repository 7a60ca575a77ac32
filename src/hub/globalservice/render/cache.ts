// The cache moved to src/runtime/lru.ts so hub/origin renders share it; this keeps the controller's
// import working until it imports runtime/lru.js itself.
export { createLruCache, type LruCache } from '../../../runtime/lru.js';
