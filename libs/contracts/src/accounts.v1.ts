/** Request/reply contracts of the accounts area (v1). */
export {};
