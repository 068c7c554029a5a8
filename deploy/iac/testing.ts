// Runs the Pulumi program offline with pulumi.runtime.setMocks: no cloud, no
// Pulumi CLI. Every resource the program declares is recorded with its
// inputs, so tests (test/deploy/iac.test.ts in the repository root) can check
// the network and the cluster as data. This module loads @pulumi/* from this
// package's node_modules, which the root package does not install.
import * as pulumi from '@pulumi/pulumi';
import type { PlatformArgs } from './src/platform.ts';

export interface RecordedResource {
  type: string;
  name: string;
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- resource inputs are arbitrary
  inputs: Record<string, any>;
}

const ISSUER = 'https://oidc.eks.ap-northeast-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';

/** Declares the platform under mocks and returns every resource and the resolved outputs. */
export async function runPlatform(
  args: PlatformArgs,
): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  const resources: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(r: pulumi.runtime.MockResourceArgs) {
        const id = `${r.name}-id`;
        resources.push({ type: r.type, name: r.name, id, inputs: r.inputs });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- mock state
        const state: Record<string, any> = {
          ...r.inputs,
          arn: `arn:aws:mock:::${r.type}/${r.name}`,
          name: r.inputs.name ?? r.name,
        };
        if (r.type === 'aws:eks/cluster:Cluster') {
          state.identities = [{ oidcs: [{ issuer: ISSUER }] }];
          state.vpcConfig = { ...r.inputs.vpcConfig, clusterSecurityGroupId: 'sg-eks-cluster' };
          state.endpoint = 'https://ABCDEF.gr7.ap-northeast-2.eks.amazonaws.com';
        }
        if (r.type === 'aws:ec2/launchTemplate:LaunchTemplate') state.latestVersion = 1;
        if (r.type === 'aws:ec2/instance:Instance') state.privateIp = '10.40.64.10';
        if (r.type === 'aws:s3/bucket:Bucket') state.bucket = r.inputs.bucket;
        return { id, state };
      },
      call(c: pulumi.runtime.MockCallArgs) {
        if (c.token === 'aws:ssm/getParameter:getParameter')
          return { name: c.inputs.name, value: 'ami-0123456789abcdef0', type: 'String' };
        if (c.token === 'aws:ec2/getManagedPrefixList:getManagedPrefixList')
          return { id: 'pl-s3mock', name: c.inputs.name, entries: [] };
        if (c.token === 'aws:index/getCallerIdentity:getCallerIdentity')
          return {
            accountId: '111111111111',
            arn: 'arn:aws:iam::111111111111:user/test',
            userId: 'test',
          };
        return c.inputs;
      },
    },
    'missionlink',
    args.environment,
    false,
  );
  const { createPlatform } = await import('./src/platform.ts');
  const platform = createPlatform(args);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(platform)) {
    const output = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
    outputs[key] = await new Promise((resolve) => output.apply((v) => resolve(v)));
  }
  // Resources declared inside apply() callbacks register a little later: wait until the list settles.
  for (let seen = -1; seen !== resources.length;) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { resources, outputs };
}
