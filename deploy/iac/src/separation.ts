// Separation to the financial-security standard (deploy/README.md, "망분리"):
// - VPC endpoints, so the database subnets (no internet route) and every
//   node reach AWS without the internet: S3 (gateway endpoint: backups, ECR
//   layers) and interface endpoints for STS (IRSA), ECR (images), Secrets
//   Manager (External Secrets), CloudWatch Logs, EC2 (the VPC CNI's address
//   management) and SSM (Session Manager instead of SSH);
// - VPC flow logs of every accepted and rejected connection, kept in an
//   encrypted log group for `logRetentionDays` (at least a year);
// - the EKS control plane's log group, created here so it is encrypted and
//   kept as long (EKS would create it without retention).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Network } from './network.ts';

/** Interface endpoints (com.amazonaws.<region>.<service>). */
export const INTERFACE_ENDPOINTS = [
  'sts',
  'ecr.api',
  'ecr.dkr',
  'secretsmanager',
  'logs',
  'ec2',
  'ssm',
  'ssmmessages',
  'ec2messages',
] as const;

/** The shortest retention the rules allow for access and network logs (days). */
export const MIN_LOG_RETENTION_DAYS = 365;

export interface SeparationArgs {
  name: string;
  clusterName: string;
  region: string;
  network: Network;
  logRetentionDays: number;
  tags: Record<string, string>;
}

export function createSeparation(args: SeparationArgs) {
  const { name, network, tags, region } = args;
  if (args.logRetentionDays < MIN_LOG_RETENTION_DAYS)
    throw new Error(
      `logs must be kept at least ${MIN_LOG_RETENTION_DAYS} days, got ${args.logRetentionDays}`,
    );
  const vpcId = network.vpc.id;

  // --- VPC endpoints ---------------------------------------------------------
  const s3 = new aws.ec2.VpcEndpoint(`${name}-s3`, {
    vpcId,
    serviceName: `com.amazonaws.${region}.s3`,
    vpcEndpointType: 'Gateway',
    routeTableIds: network.zones.flatMap((z) => [z.nodeRoutes.id, z.databaseRoutes.id]),
    tags: { ...tags, Name: `${name}-s3` },
  });
  const endpointSg = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
    vpcId,
    description: 'VPC interface endpoints: HTTPS from inside the VPC',
    tags: { ...tags, Name: `${name}-endpoints` },
  });
  new aws.vpc.SecurityGroupIngressRule(`${name}-endpoints-https`, {
    securityGroupId: endpointSg.id,
    cidrIpv4: network.vpc.cidrBlock,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'HTTPS from the VPC',
    tags,
  });
  const interfaces = INTERFACE_ENDPOINTS.map(
    (service) =>
      new aws.ec2.VpcEndpoint(`${name}-${service.replace('.', '-')}`, {
        vpcId,
        serviceName: `com.amazonaws.${region}.${service}`,
        vpcEndpointType: 'Interface',
        // The service's public name resolves to the endpoint inside the VPC.
        privateDnsEnabled: true,
        subnetIds: network.zones.map((z) => z.nodeSubnet.id),
        securityGroupIds: [endpointSg.id],
        tags: { ...tags, Name: `${name}-${service}` },
      }),
  );

  // --- logs: flow logs and the control plane's log group -----------------------
  const account = aws.getCallerIdentityOutput();
  const logsKey = new aws.kms.Key(`${name}-logs`, {
    description: `${name} CloudWatch log groups`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    // CloudWatch Logs must be allowed to use the key for the log groups of this account.
    policy: account.accountId.apply((id) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'account',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${id}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
          {
            Sid: 'logs',
            Effect: 'Allow',
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Action: [
              'kms:Encrypt*',
              'kms:Decrypt*',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
              'kms:Describe*',
            ],
            Resource: '*',
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${id}:log-group:*`,
              },
            },
          },
        ],
      }),
    ),
    tags,
  });
  const logGroup = (id: string, logName: string) =>
    new aws.cloudwatch.LogGroup(`${name}-${id}`, {
      name: logName,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: logsKey.arn,
      tags,
    });
  const flowLogGroup = logGroup('flow-logs', `/missionlink/${name}/vpc-flow-logs`);
  const controlPlaneLogs = logGroup('control-plane-logs', `/aws/eks/${args.clusterName}/cluster`);

  const flowLogRole = new aws.iam.Role(`${name}-flow-logs`, {
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    }),
    tags,
  });
  new aws.iam.RolePolicy(`${name}-flow-logs`, {
    role: flowLogRole.id,
    policy: flowLogGroup.arn.apply((arn) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Resource: `${arn}:*`,
          },
        ],
      }),
    ),
  });
  const flowLog = new aws.ec2.FlowLog(`${name}-vpc`, {
    vpcId,
    trafficType: 'ALL',
    logDestinationType: 'cloud-watch-logs',
    logDestination: flowLogGroup.arn,
    iamRoleArn: flowLogRole.arn,
    maxAggregationInterval: 60,
    tags,
  });

  return {
    s3Endpoint: s3,
    interfaceEndpoints: interfaces,
    endpointSg,
    flowLog,
    flowLogGroup,
    controlPlaneLogs,
    logsKey,
  } satisfies Record<string, pulumi.Resource | pulumi.Resource[]>;
}
