import { hostname, userInfo } from 'node:os';

import type { Actor, CiContext } from './types.js';

type Env = NodeJS.ProcessEnv;

/** How one CI system names its pipeline, run, commit and branch in the job's environment. */
interface CiSystem {
  system: string;
  detect: (env: Env) => boolean;
  context: (env: Env) => Omit<CiContext, 'system'>;
}

// Variable names are the ones each vendor documents for its hosted runners.
const CI_SYSTEMS: CiSystem[] = [
  {
    system: 'github-actions',
    detect: (env) => env.GITHUB_ACTIONS === 'true',
    context: (env) => ({
      pipeline: join(env.GITHUB_REPOSITORY, env.GITHUB_WORKFLOW),
      job: env.GITHUB_JOB,
      run: join(env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, '.'),
      commit: env.GITHUB_SHA,
      branch: env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME,
      url:
        env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
          ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
          : undefined,
      triggeredBy: env.GITHUB_TRIGGERING_ACTOR || env.GITHUB_ACTOR,
    }),
  },
  {
    system: 'gitlab-ci',
    detect: (env) => env.GITLAB_CI === 'true',
    context: (env) => ({
      pipeline: env.CI_PROJECT_PATH,
      job: env.CI_JOB_NAME,
      run: env.CI_PIPELINE_ID,
      commit: env.CI_COMMIT_SHA,
      branch: env.CI_COMMIT_BRANCH || env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_REF_NAME,
      url: env.CI_PIPELINE_URL || env.CI_JOB_URL,
      triggeredBy: env.GITLAB_USER_LOGIN,
    }),
  },
  {
    system: 'jenkins',
    detect: (env) => Boolean(env.JENKINS_URL || env.JENKINS_HOME),
    context: (env) => ({
      pipeline: env.JOB_NAME,
      run: env.BUILD_NUMBER,
      commit: env.GIT_COMMIT,
      branch: env.BRANCH_NAME || env.GIT_BRANCH,
      url: env.BUILD_URL,
      triggeredBy: env.BUILD_USER_ID,
    }),
  },
  {
    system: 'circleci',
    detect: (env) => env.CIRCLECI === 'true',
    context: (env) => ({
      pipeline: join(env.CIRCLE_PROJECT_USERNAME, env.CIRCLE_PROJECT_REPONAME),
      job: env.CIRCLE_JOB,
      run: env.CIRCLE_WORKFLOW_ID || env.CIRCLE_BUILD_NUM,
      commit: env.CIRCLE_SHA1,
      branch: env.CIRCLE_BRANCH,
      url: env.CIRCLE_BUILD_URL,
      triggeredBy: env.CIRCLE_USERNAME,
    }),
  },
  {
    system: 'buildkite',
    detect: (env) => env.BUILDKITE === 'true',
    context: (env) => ({
      pipeline: env.BUILDKITE_PIPELINE_SLUG,
      job: env.BUILDKITE_LABEL,
      run: env.BUILDKITE_BUILD_NUMBER,
      commit: env.BUILDKITE_COMMIT,
      branch: env.BUILDKITE_BRANCH,
      url: env.BUILDKITE_BUILD_URL,
      triggeredBy: env.BUILDKITE_BUILD_CREATOR_EMAIL || env.BUILDKITE_BUILD_CREATOR,
    }),
  },
  {
    system: 'azure-pipelines',
    detect: (env) => env.TF_BUILD?.toLowerCase() === 'true',
    context: (env) => ({
      pipeline: env.BUILD_DEFINITIONNAME,
      job: env.SYSTEM_JOBDISPLAYNAME,
      run: env.BUILD_BUILDID,
      commit: env.BUILD_SOURCEVERSION,
      branch: env.BUILD_SOURCEBRANCHNAME,
      triggeredBy: env.BUILD_REQUESTEDFOR,
    }),
  },
  {
    system: 'bitbucket',
    detect: (env) => Boolean(env.BITBUCKET_BUILD_NUMBER),
    context: (env) => ({
      pipeline: env.BITBUCKET_REPO_FULL_NAME,
      run: env.BITBUCKET_BUILD_NUMBER,
      commit: env.BITBUCKET_COMMIT,
      branch: env.BITBUCKET_BRANCH,
      triggeredBy: env.BITBUCKET_STEP_TRIGGERER_UUID,
    }),
  },
  {
    system: 'travis',
    detect: (env) => env.TRAVIS === 'true',
    context: (env) => ({
      pipeline: env.TRAVIS_REPO_SLUG,
      job: env.TRAVIS_JOB_NAME,
      run: env.TRAVIS_BUILD_NUMBER,
      commit: env.TRAVIS_COMMIT,
      branch: env.TRAVIS_PULL_REQUEST_BRANCH || env.TRAVIS_BRANCH,
      url: env.TRAVIS_BUILD_WEB_URL,
    }),
  },
];

function join(first?: string, second?: string, separator = '/'): string | undefined {
  if (first && second) {
    return `${first}${separator}${second}`;
  }
  return first || second || undefined;
}

/** Detects the CI job from the environment; `CI=true` alone gives system `ci`. */
export function detectCi(env: Env): CiContext | undefined {
  for (const candidate of CI_SYSTEMS) {
    if (candidate.detect(env)) {
      return dropEmpty({ system: candidate.system, ...candidate.context(env) });
    }
  }
  if (env.CI && env.CI !== 'false' && env.CI !== '0') {
    return { system: 'ci' };
  }
  return undefined;
}

function dropEmpty(context: CiContext): CiContext {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) {
    if (typeof value === 'string' && value !== '') {
      result[key] = value;
    }
  }
  return result as unknown as CiContext;
}

/** The operating-system user: the account the process runs as, or USER/LOGNAME without a passwd entry. */
export function osUser(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER || env.LOGNAME || env.USERNAME || `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

export function detectActor(env: Env): Actor {
  const ci = detectCi(env);
  return { user: osUser(env), host: hostname(), ...(ci ? { ci } : {}) };
}

/** A short label for people: `alice@host` or `alice@host via github-actions org/repo/deploy`. */
export function describeActor(actor: Actor): string {
  const base = `${actor.user}@${actor.host}`;
  if (!actor.ci) {
    return base;
  }
  const who = actor.ci.triggeredBy ? ` by ${actor.ci.triggeredBy}` : '';
  return `${base} via ${actor.ci.system}${actor.ci.pipeline ? ` ${actor.ci.pipeline}` : ''}${who}`;
}

/** The identity anomaly rules track: the CI pipeline when there is one, else user@host. */
export function actorIdentity(actor: Actor): string {
  if (actor.ci) {
    return `${actor.ci.system}:${actor.ci.pipeline ?? 'unknown'}${actor.ci.triggeredBy ? `:${actor.ci.triggeredBy}` : ''}`;
  }
  return `${actor.user}@${actor.host}`;
}
