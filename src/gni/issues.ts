/**
 * Issue collection for the GNI reader: a bounded list (hostile input cannot make it grow
 * without limit) plus helpers to build and inspect issues.
 */
import type { Issue } from '../common/index.js';

/** Most issues kept for one document; later ones are counted in one final warning. */
export const MAX_ISSUES = 1000;

/** Path used for issues about the document as a whole (syntax, size, root). */
export const DOCUMENT_PATH = 'document';

/** Collects issues up to `MAX_ISSUES`, counting the overflow. */
export class IssueSink {
  readonly list: Issue[] = [];
  private dropped = 0;

  /** Adds an error. */
  error(path: string, code: string, message: string): void {
    this.add({ path, code, message, severity: 'error' });
  }

  /** Adds a warning. */
  warn(path: string, code: string, message: string): void {
    this.add({ path, code, message, severity: 'warning' });
  }

  private add(issue: Issue): void {
    if (this.list.length < MAX_ISSUES) this.list.push(issue);
    else this.dropped++;
  }

  /** Returns the issues, with a closing warning if some were dropped. */
  done(): Issue[] {
    if (this.dropped > 0) {
      this.list.push({
        path: DOCUMENT_PATH,
        code: 'too-many-issues',
        message: `${this.dropped} more issue(s) not listed (limit ${MAX_ISSUES})`,
        severity: 'warning',
      });
      this.dropped = 0;
    }
    return this.list;
  }
}

/** True if any issue is an error. */
export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** Counts issues by severity. */
export function countIssues(issues: readonly Issue[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const i of issues) if (i.severity === 'error') errors++;
  return { errors, warnings: issues.length - errors };
}

/** Formats an issue as one human-readable line: `error <path> <code>: <message>`. */
export function formatIssue(issue: Issue): string {
  return `${issue.severity} ${issue.path} ${issue.code}: ${issue.message}`;
}
