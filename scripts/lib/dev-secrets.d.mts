export declare const DEV_SECRETS: Record<string, () => string>;
export declare function generateDevSecrets(): Record<string, string>;
export declare function parseEnvFile(text: string): Record<string, string>;
export declare function loadOrCreateDevSecrets(dataDir: string): {
  file: string;
  values: Record<string, string>;
  created: boolean;
};
