/** Request/reply contracts of the archive area (v1). */
export {};
