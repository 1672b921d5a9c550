export { buildC8yHttpSide, outgoingProxy, tenantBaseUrl } from './build';
export type { C8yHttpSide } from './http-side';
export { C8yHttpClient, C8yHttpError, readJson } from './c8y-client';
export { BasicAuth, NoAuth } from './auth';
export { C8yEvents } from './events';
export { IdentityCache } from './identity';
