export declare function summarise(
  report: unknown,
  vitestStatus: number,
): { line: string; details: string[]; exitCode: number };
