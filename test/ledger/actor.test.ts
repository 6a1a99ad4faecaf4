import { describe, expect, it } from 'vitest';

import { describeActor, detectActor, detectCi } from '../../engine/ledger/actor.js';

describe('CI detection', () => {
  const cases: { name: string; env: NodeJS.ProcessEnv; expected: Record<string, string> | undefined }[] = [
    {
      name: 'github actions',
      env: {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/db',
        GITHUB_WORKFLOW: 'deploy',
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2',
        GITHUB_SHA: 'abc123',
        GITHUB_REF_NAME: 'main',
        GITHUB_SERVER_URL: 'https://github.example',
        GITHUB_ACTOR: 'alice',
        GITHUB_JOB: 'apply',
      },
      expected: {
        system: 'github-actions',
        pipeline: 'acme/db/deploy',
        job: 'apply',
        run: '42.2',
        commit: 'abc123',
        branch: 'main',
        url: 'https://github.example/acme/db/actions/runs/42',
        triggeredBy: 'alice',
      },
    },
    {
      name: 'gitlab ci',
      env: {
        GITLAB_CI: 'true',
        CI_PROJECT_PATH: 'acme/db',
        CI_PIPELINE_ID: '7',
        CI_COMMIT_SHA: 'def456',
        CI_COMMIT_BRANCH: 'release',
        CI_PIPELINE_URL: 'https://gitlab.example/p/7',
        GITLAB_USER_LOGIN: 'bob',
        CI_JOB_NAME: 'apply',
      },
      expected: {
        system: 'gitlab-ci',
        pipeline: 'acme/db',
        job: 'apply',
        run: '7',
        commit: 'def456',
        branch: 'release',
        url: 'https://gitlab.example/p/7',
        triggeredBy: 'bob',
      },
    },
    {
      name: 'jenkins',
      env: { JENKINS_URL: 'https://ci/', JOB_NAME: 'db-apply', BUILD_NUMBER: '12', GIT_COMMIT: 'f00', GIT_BRANCH: 'origin/main', BUILD_URL: 'https://ci/job/12' },
      expected: { system: 'jenkins', pipeline: 'db-apply', run: '12', commit: 'f00', branch: 'origin/main', url: 'https://ci/job/12' },
    },
    {
      name: 'circleci',
      env: { CIRCLECI: 'true', CIRCLE_PROJECT_USERNAME: 'acme', CIRCLE_PROJECT_REPONAME: 'db', CIRCLE_SHA1: 'c1', CIRCLE_BRANCH: 'main', CIRCLE_BUILD_NUM: '5', CIRCLE_USERNAME: 'carol' },
      expected: { system: 'circleci', pipeline: 'acme/db', run: '5', commit: 'c1', branch: 'main', triggeredBy: 'carol' },
    },
    {
      name: 'buildkite',
      env: { BUILDKITE: 'true', BUILDKITE_PIPELINE_SLUG: 'db', BUILDKITE_BUILD_NUMBER: '9', BUILDKITE_COMMIT: 'b9', BUILDKITE_BRANCH: 'main', BUILDKITE_BUILD_CREATOR: 'dave' },
      expected: { system: 'buildkite', pipeline: 'db', run: '9', commit: 'b9', branch: 'main', triggeredBy: 'dave' },
    },
    { name: 'generic CI', env: { CI: 'true' }, expected: { system: 'ci' } },
    { name: 'a workstation', env: { CI: 'false' }, expected: undefined },
  ];

  for (const testCase of cases) {
    it(`reads ${testCase.name}`, () => {
      expect(detectCi(testCase.env)).toEqual(testCase.expected);
    });
  }

  it('describes the actor with its pipeline', () => {
    const actor = detectActor({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/db', GITHUB_WORKFLOW: 'deploy', GITHUB_ACTOR: 'alice' });
    expect(actor.user).toBeTypeOf('string');
    expect(describeActor(actor)).toBe(`${actor.user}@${actor.host} via github-actions acme/db/deploy by alice`);
  });
});
