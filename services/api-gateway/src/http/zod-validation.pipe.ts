/**
 * Validates a request body, query or path parameter with its zod schema, once, at the edge. Every
 * problem names its field as a JSON path; unknown fields (strict schemas) are rejected by name.
 */
import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { DomainError } from '@parley/bus';

export type InputLocation = 'body' | 'query' | 'path' | 'header';

/** One line per problem, with the field it is about. Exported for the unit spec. */
export function describeIssues(
  issues: z.core.$ZodIssue[],
  location: InputLocation,
  prefix: Array<string | number> = [],
): Array<{ field: string; message: string }> {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...path, key].join('.'),
        message: `unknown field "${key}"`,
      }));
    }
    if (path.length === 0) {
      return [
        {
          field: location,
          message: location === 'body' ? 'the request body must be a JSON object' : issue.message,
        },
      ];
    }
    return [{ field: path.join('.'), message: issue.message }];
  });
}

export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly location: InputLocation,
    /** For a path parameter: its name, so the field says which one. */
    private readonly name?: string,
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const errors = describeIssues(result.error.issues, this.location, this.name ? [this.name] : []);
    const first = errors[0]!;
    throw new DomainError('validation-failed', `${first.field}: ${first.message}`, first.field, errors);
  }
}
