/** Published test secrets for the workerd suite: never use them for anything real. */
export const TEST_SIGNING_KEY = "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897";
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
