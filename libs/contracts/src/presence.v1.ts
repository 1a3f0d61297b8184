/** Request/reply contracts of the presence area (v1). */
export {};
