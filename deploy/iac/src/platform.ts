// Everything one MissionLink environment needs from AWS: the network, the
// EKS cluster, the database backup bucket and the IAM roles the manifests
// under deploy/ name (IRSA for External Secrets and CloudNativePG backups).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createCluster, irsaTrust } from './cluster.ts';
import { createNetwork } from './network.ts';
import { createSecretRotation, type SecretRotationConfig } from './rotation.ts';
import { createSeparation } from './separation.ts';
import { createSigning } from './signing.ts';

export interface PlatformArgs {
  /** dev or prod: names, the Kubernetes namespace and the secrets prefix follow it. */
  environment: string;
  region: string;
  availabilityZones: string[];
  vpcCidr: string;
  kubernetesVersion: string;
  adminRoleArns: string[];
  ciRoleArn: string;
  /** Run the admin host (SSM Session Manager) for reaching the private API. */
  adminHost: boolean;
  nodeInstanceTypes: string[];
  /** How long flow logs and control-plane logs are kept (days, at least 365). */
  logRetentionDays: number;
  /** Make the image-signing KMS key and its roles (one stack per account). */
  imageSigning: boolean;
  /** Rotation functions and schedules of the database and provider secrets (none: no rotation). */
  secretRotation: SecretRotationConfig;
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
  const separation = createSeparation({
    name,
    clusterName,
    region: args.region,
    network,
    logRetentionDays: args.logRetentionDays,
    tags,
  });
  const k8s = createCluster({
    name,
    clusterName,
    region: args.region,
    kubernetesVersion: args.kubernetesVersion,
    network,
    vpcCidr: args.vpcCidr,
    controlPlaneLogs: separation.controlPlaneLogs,
    adminRoleArns: args.adminRoleArns,
    ciRoleArn: args.ciRoleArn,
    ciNamespaces: [namespace],
    adminHost: args.adminHost,
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
  // The app's namespace, and monitoring (Alertmanager's credentials,
  // deploy/monitoring/alertmanager/credentials.yaml).
  const secretsReader = new aws.iam.Role(`${name}-secrets-reader`, {
    name: `${name}-secrets-reader`,
    assumeRolePolicy: irsaTrust(k8s.oidc.arn, k8s.issuerUrl, [
      `${namespace}:external-secrets-reader`,
      'monitoring:external-secrets-reader',
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

  // --- rotation of the database and provider secrets (./rotation.ts) ---------
  const rotation = createSecretRotation({
    name,
    environment: args.environment,
    region: args.region,
    accountId: account.accountId,
    rotation: args.secretRotation,
  });

  // --- image signing (Jenkins signs with KMS; Kyverno verifies) ---------------
  const signing = args.imageSigning
    ? createSigning({
        name,
        oidcArn: k8s.oidc.arn,
        issuerUrl: k8s.issuerUrl,
        jenkinsNamespace: 'jenkins-agents',
        tags,
      })
    : undefined;

  return {
    vpcId: network.vpc.id,
    imageSigningKeyArn: signing ? signing.key.arn : pulumi.output(undefined),
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
    adminHostId: k8s.adminHost ? k8s.adminHost.id : pulumi.output(undefined),
    databaseSecurityGroupId: k8s.databaseSg.id,
    flowLogGroup: separation.flowLogGroup.name,
    rotatedSecrets: pulumi.all(rotation.rotations.map((r) => r.secretId)),
  };
}
