// The secret checks live in secrets.ts (one place for every secret's rule); this name stays for existing imports.
export { checkEnv, checkEnvOnce, type EnvCheck, type EnvProblem, MIN_ADMIN_TOKEN_CHARS } from "./secrets.js";
