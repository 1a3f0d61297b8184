/** The console's building blocks: a page with a focused heading, labelled fields, and problem messages. */
import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import { ApiError } from './api/client';

/** A page: sets the document title and moves focus to its heading, so keyboard and screen-reader users land on it. */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Parley`;
    heading.current?.focus();
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </section>
  );
}

/** The API's problem details as the owner reads them: what went wrong, and each field's reason. */
export function ProblemAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const problem =
    error instanceof ApiError
      ? error.problem
      : { title: 'Something went wrong', detail: String((error as Error)?.message ?? error), errors: [] };
  const details = problem.errors?.filter((e) => e.message !== problem.detail) ?? [];
  return (
    <div className="problem" role="alert">
      <strong>{problem.title}</strong>
      <p>{problem.detail}</p>
      {details.length > 0 && (
        <ul>
          {details.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

interface FieldProps {
  label: string;
  /** The API field name, so the problem's field errors land next to the right input. */
  name: string;
  error?: unknown;
  hint?: string;
}

function fieldMessage(error: unknown, name: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(name) : undefined;
}

function Described({
  id,
  hint,
  message,
  children,
  label,
}: {
  id: string;
  hint?: string;
  message?: string;
  children: ReactNode;
  label: string;
}) {
  return (
    <div className={message ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {message && (
        <small id={`${id}-error`} className="field-error">
          {message}
        </small>
      )}
    </div>
  );
}

function describedBy(id: string, hint?: string, message?: string) {
  const ids = [hint ? `${id}-hint` : '', message ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids || undefined;
}

export function Field({
  label,
  name,
  error,
  hint,
  ...input
}: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const message = fieldMessage(error, name);
  return (
    <Described id={id} hint={hint} message={message} label={label}>
      <input
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={describedBy(id, hint, message)}
        {...input}
      />
    </Described>
  );
}

export function TextArea({
  label,
  name,
  error,
  hint,
  ...input
}: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const message = fieldMessage(error, name);
  return (
    <Described id={id} hint={hint} message={message} label={label}>
      <textarea
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={describedBy(id, hint, message)}
        {...input}
      />
    </Described>
  );
}

export function Select({
  label,
  name,
  error,
  hint,
  children,
  ...input
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  const message = fieldMessage(error, name);
  return (
    <Described id={id} hint={hint} message={message} label={label}>
      <select
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={describedBy(id, hint, message)}
        {...input}
      >
        {children}
      </select>
    </Described>
  );
}

/** Loads data for a page; `reload()` fetches again (after a change). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller lists what the loader depends on
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    try {
      const data = await run();
      setState({ data, loading: false });
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  }, [run]);
  useEffect(() => {
    setState({ loading: true });
    void reload();
  }, [reload]);
  return { ...state, reload };
}

/**
 * A form submission: runs the action, keeps what was typed when it is refused (the inputs are
 * controlled by their pages and left as they are), and exposes the problem for the fields.
 */
export function useSubmit<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit, setError };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString();
}
