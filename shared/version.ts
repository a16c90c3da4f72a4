/** The Shadow version, reported by hello and status. Kept in step with package.json by a test. */
export const SHADOW_VERSION = '0.1.0';
