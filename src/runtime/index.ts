// The runtime's public surface: controllers import from here.
export * from './kube.js';
export * from './backoff.js';
export * from './clock.js';
export * from './queue.js';
export * from './store.js';
export * from './informer.js';
export * from './leader.js';
export * from './conditions.js';
export * from './status.js';
export * from './events.js';
export * from './log.js';
export * from './metrics.js';
export * from './health.js';
export * from './controller.js';
export * from './manager.js';
export * from './signals.js';
export * from './json.js';
