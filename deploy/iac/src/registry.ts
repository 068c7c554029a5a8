// Images through the VPC (망분리): the database nodes have no route to the
// internet, so every image they run (PostgreSQL and CloudNativePG's instance
// manager, the log shipper, the node exporter) is pulled from this account's
// ECR, through the ecr.api/ecr.dkr endpoints and S3's gateway endpoint. ECR
// pull-through cache rules fill it from the upstream registries on first
// pull: `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<upstream path>`.
// GitHub's and Docker Hub's registries need credentials: Pulumi makes the
// secrets (ecr-pullthroughcache/<prefix>), you put {"username","accessToken"}
// in them.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Upstream registries cached in ECR, by repository prefix. */
export const PULL_THROUGH: Record<string, { upstream: string; credentials: boolean }> = {
  ghcr: { upstream: 'ghcr.io', credentials: true },
  'docker-hub': { upstream: 'registry-1.docker.io', credentials: true },
  quay: { upstream: 'quay.io', credentials: false },
  'ecr-public': { upstream: 'public.ecr.aws', credentials: false },
  k8s: { upstream: 'registry.k8s.io', credentials: false },
};

export interface RegistryArgs {
  name: string;
  /** The nodes' IAM role: it may import upstream images into the cache. */
  nodeRole: aws.iam.Role;
  tags: Record<string, string>;
}

export function createRegistryMirror(args: RegistryArgs) {
  const { name, tags } = args;
  const rules = Object.entries(PULL_THROUGH).map(([prefix, { upstream, credentials }]) => {
    const secret = credentials
      ? new aws.secretsmanager.Secret(`${name}-ptc-${prefix}`, {
          // ECR requires this name prefix for pull-through cache credentials.
          name: `ecr-pullthroughcache/${name}-${prefix}`,
          description: `ECR pull-through cache credentials for ${upstream} ({"username","accessToken"})`,
          tags,
        })
      : undefined;
    return new aws.ecr.PullThroughCacheRule(`${name}-ptc-${prefix}`, {
      ecrRepositoryPrefix: prefix,
      upstreamRegistryUrl: upstream,
      credentialArn: secret?.arn,
    });
  });
  // Pulling a not-yet-cached image creates its repository and imports it.
  new aws.iam.RolePolicy(`${name}-nodes-pull-through`, {
    role: args.nodeRole.id,
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
          Resource: Object.keys(PULL_THROUGH).map((p) => `arn:aws:ecr:*:*:repository/${p}/*`),
        },
      ],
    }),
  });
  return { rules } satisfies Record<string, pulumi.Resource[]>;
}
