// Everything one MissionLink environment needs from AWS: the network, the
// EKS cluster, the database backup bucket and the IAM roles the manifests
// under deploy/ name (IRSA for External Secrets and CloudNativePG backups).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createCluster, irsaTrust } from './cluster.ts';
import { createNetwork } from './network.ts';

export interface PlatformArgs {
  /** dev or prod: names, the Kubernetes namespace and the secrets prefix follow it. */
  environment: string;
  region: string;
  availabilityZones: string[];
  vpcCidr: string;
  kubernetesVersion: string;
  adminRoleArns: string[];
  ciRoleArn: string;
  bastionAllowedCidrs: string[];
  nodeInstanceTypes: string[];
}

/** The Kubernetes namespace of an environment (deploy/overlays/*). */
export const namespaceOf = (environment: string) =>
  environment === 'prod' ? 'missionlink' : `missionlink-${environment}`;

export function createPlatform(args: PlatformArgs) {
  const name = `missionlink-${args.environment}`;
  const clusterName = name;
  const namespace = namespaceOf(args.environment);
  const tags = { project: 'missionlink', environment: args.environment, 'managed-by': 'pulumi' };

  const network = createNetwork({
    name,
    clusterName,
    cidrBlock: args.vpcCidr,
    availabilityZones: args.availabilityZones,
    tags,
  });
  const k8s = createCluster({
    name,
    clusterName,
    kubernetesVersion: args.kubernetesVersion,
    network,
    adminRoleArns: args.adminRoleArns,
    ciRoleArn: args.ciRoleArn,
    ciNamespaces: [namespace],
    bastionAllowedCidrs: args.bastionAllowedCidrs,
    nodeInstanceTypes: args.nodeInstanceTypes,
    tags,
  });

  // --- PostgreSQL backups (CloudNativePG, barmanObjectStore) ---------------
  const backups = new aws.s3.Bucket(`${name}-backups`, {
    bucket: `missionlink-backups-${args.environment}`,
    forceDestroy: false,
    tags,
  });
  new aws.s3.BucketPublicAccessBlock(`${name}-backups`, {
    bucket: backups.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new aws.s3.BucketVersioning(`${name}-backups`, {
    bucket: backups.id,
    versioningConfiguration: { status: 'Enabled' },
  });
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-backups`, {
    bucket: backups.id,
    rules: [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' }, bucketKeyEnabled: true },
    ],
  });
  // CloudNativePG runs each cluster's pods as a service account named after the cluster.
  const dbBackupRole = new aws.iam.Role(`${name}-db-backup`, {
    name: `${name}-db-backup`,
    assumeRolePolicy: irsaTrust(k8s.oidc.arn, k8s.issuerUrl, [
      `${namespace}:identity-db`,
      `${namespace}:funding-db`,
    ]),
    tags,
  });
  new aws.iam.RolePolicy(`${name}-db-backup`, {
    role: dbBackupRole.id,
    policy: backups.arn.apply((arn) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arn },
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
            Resource: `${arn}/*`,
          },
        ],
      }),
    ),
  });

  // --- External Secrets: read missionlink/<environment>/* only --------------
  const secretsReader = new aws.iam.Role(`${name}-secrets-reader`, {
    name: `${name}-secrets-reader`,
    assumeRolePolicy: irsaTrust(k8s.oidc.arn, k8s.issuerUrl, [
      `${namespace}:external-secrets-reader`,
    ]),
    tags,
  });
  const account = aws.getCallerIdentityOutput();
  new aws.iam.RolePolicy(`${name}-secrets-reader`, {
    role: secretsReader.id,
    policy: account.accountId.apply((id) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: `arn:aws:secretsmanager:${args.region}:${id}:secret:missionlink/${args.environment}/*`,
          },
        ],
      }),
    ),
  });

  return {
    vpcId: network.vpc.id,
    publicSubnetIds: network.zones.map((z) => z.publicSubnet.id),
    nodeSubnetIds: network.zones.map((z) => z.nodeSubnet.id),
    databaseSubnetIds: network.zones.map((z) => z.databaseSubnet.id),
    natGatewayIds: network.zones.map((z) => z.natGateway.id),
    clusterName: k8s.cluster.name,
    clusterEndpoint: k8s.cluster.endpoint,
    oidcProviderArn: k8s.oidc.arn,
    lbControllerRoleArn: k8s.lbControllerRole.arn,
    dbBackupRoleArn: dbBackupRole.arn,
    secretsReaderRoleArn: secretsReader.arn,
    backupBucket: backups.bucket,
    bastionPublicIp: k8s.bastion ? k8s.bastion.publicIp : pulumi.output(undefined),
  };
}
