// The secret checks live in secrets.ts (one place for every secret's rule); this name stays for existing imports.
export { checkEnv, checkEnvOnce, MIN_ADMIN_TOKEN_CHARS, type EnvCheck, type EnvProblem } from "./secrets.js";
