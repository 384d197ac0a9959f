/** The admin page's public face for main.ts and tests. */
export { buildAdminServer, defaultPublicDir, type AdminContext } from './server.js';
export { AdminService, ensureInitialAdmin, parseListen, type AdminServiceOptions } from './service.js';
export { VisitorPurge, type VisitorPurgeDeps, type PurgeResult } from './visitor-purge.js';
export type { AdminDeps, PassSigner, RegistrationSink, SyncStatus, VisitorRegistration } from './deps.js';
