/**
 * The `hf:` source syntax shared by `convert`, `pull` and `inspect`:
 *   hf:ORG/NAME                  the repo at its default branch
 *   hf:ORG/NAME@REVISION         a branch, tag, commit sha or refs/pr/N
 *   hf:ORG/NAME[@REV]/PATH       one file inside the repo (remote inspect)
 * Repo ids follow the Hub's rules (and the cache's `models--ORG--NAME` naming, which is why `--`
 * is refused): otherwise a typo would silently become a request for some other repo or path.
 */
import { UsageError } from '../../formats/errors.ts';

export interface HubRef {
  repo: string;
  revision?: string;
  path?: string;
}

const SEGMENT = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

/** Throws UsageError unless `repo` is "ORG/NAME" with Hub-legal characters. */
export function assertRepoId(repo: string, source = repo): void {
  const parts = repo.split('/');
  const ok =
    parts.length === 2 &&
    repo.length <= 96 &&
    parts.every((p) => SEGMENT.test(p)) &&
    !repo.includes('--') &&
    !repo.includes('..') &&
    !repo.endsWith('.git');
  if (!ok) {
    throw new UsageError('BAD_HUB_SOURCE', `invalid Hugging Face repo id '${repo}' in '${source}': expected ORG/NAME (letters, digits, '-', '_', '.'; no '--' or '..')`, { repo });
  }
}

/** Throws UsageError on a revision that could escape `refs/` in the cache or is not a git ref name. */
export function assertRevision(revision: string, source = revision): void {
  const segments = revision.split('/');
  const ok =
    revision.length > 0 &&
    revision.length <= 255 &&
    /^[A-Za-z0-9._\-/]+$/.test(revision) &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..') &&
    !revision.endsWith('.lock');
  if (!ok) throw new UsageError('BAD_HUB_SOURCE', `invalid revision '${revision}' in '${source}'`, { revision });
}

/**
 * Parses an `hf:` source. Returns null when `s` is not an `hf:` source at all (a local path),
 * throws UsageError when it is one but malformed.
 */
export function parseHubSource(s: string): HubRef | null {
  if (!s.startsWith('hf:')) return null;
  const body = s.slice(3).replace(/^\/\//, '');
  const m = /^([^/@]+\/[^/@]+)(?:@((?:refs\/pr\/\d+)|[^/]+))?(?:\/(.+))?$/.exec(body);
  if (!m) {
    throw new UsageError('BAD_HUB_SOURCE', `malformed Hugging Face source '${s}': expected hf:ORG/NAME[@REVISION][/PATH]`);
  }
  const [, repo, revision, path] = m;
  assertRepoId(repo, s);
  if (revision !== undefined) assertRevision(revision, s);
  const ref: HubRef = { repo };
  if (revision !== undefined) ref.revision = revision;
  if (path !== undefined) {
    const bad = path.split('/').some((p) => p === '' || p === '.' || p === '..') || path.includes('\\');
    if (bad) throw new UsageError('BAD_HUB_SOURCE', `invalid file path '${path}' in '${s}'`, { repo, file: path });
    ref.path = path;
  }
  return ref;
}

export function formatHubRef(ref: HubRef): string {
  return `hf:${ref.repo}${ref.revision ? '@' + ref.revision : ''}${ref.path ? '/' + ref.path : ''}`;
}
