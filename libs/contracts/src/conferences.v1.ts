/** Request/reply contracts of the conferences area (v1). */
export {};
