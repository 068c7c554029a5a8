// Pulumi entry point: one stack per environment (Pulumi.dev.yaml,
// Pulumi.prod.yaml hold the settings). `pulumi up` in this folder.
import * as pulumi from '@pulumi/pulumi';
import { createPlatform } from './src/platform.ts';
import type { SecretRotationConfig } from './src/rotation.ts';

const config = new pulumi.Config('missionlink');
const aws = new pulumi.Config('aws');

const platform = createPlatform({
  environment: config.require('environment'),
  region: aws.require('region'),
  availabilityZones: config.requireObject<string[]>('availabilityZones'),
  vpcCidr: config.get('vpcCidr') ?? '10.40.0.0/16',
  kubernetesVersion: config.get('kubernetesVersion') ?? '1.32',
  adminRoleArns: config.requireObject<string[]>('adminRoleArns'),
  ciRoleArn: config.require('ciRoleArn'),
  adminHost: config.getBoolean('adminHost') ?? true,
  logRetentionDays: config.getNumber('logRetentionDays') ?? 365,
  imageSigning: config.getBoolean('imageSigning') ?? false,
  nodeInstanceTypes: config.getObject<string[]>('nodeInstanceTypes') ?? ['m6i.large'],
  // Set once the secrets hold their values (deploy/README.md, "Secrets").
  secretRotation: config.getObject<SecretRotationConfig>('secretRotation') ?? {},
});

export const {
  vpcId,
  publicSubnetIds,
  nodeSubnetIds,
  databaseSubnetIds,
  natGatewayIds,
  clusterName,
  clusterEndpoint,
  oidcProviderArn,
  lbControllerRoleArn,
  dbBackupRoleArn,
  secretsReaderRoleArn,
  backupBucket,
  adminHostId,
  databaseSecurityGroupId,
  flowLogGroup,
  imageSigningKeyArn,
  rotatedSecrets,
} = platform;
