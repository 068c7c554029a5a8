// The EKS cluster in the private subnets: a private API endpoint, managed
// node groups (general workloads in the node subnets, PostgreSQL in the
// database subnets), IAM access entries for the admin and CI roles, the
// control plane's access to admission webhooks on port 9443, IRSA and the
// AWS Load Balancer Controller's role. Only the load balancer (created by
// that controller for the Gateway) and, if allowed, the bastion face the
// internet.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { lbControllerPolicy } from './lb-controller-policy.ts';
import type { Network } from './network.ts';

export interface ClusterArgs {
  name: string;
  clusterName: string;
  kubernetesVersion: string;
  network: Network;
  /** IAM role ARNs given cluster-admin (people, break-glass). */
  adminRoleArns: string[];
  /** IAM role ARN of CI (edit rights in MissionLink's namespaces only). */
  ciRoleArn: string;
  /** Namespaces CI may edit. */
  ciNamespaces: string[];
  /** CIDRs allowed to SSH to the bastion; none: no bastion. */
  bastionAllowedCidrs: string[];
  nodeInstanceTypes: string[];
  tags: Record<string, string>;
}

const assumeBy = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
const managed = (policy: string) => `arn:aws:iam::aws:policy/${policy}`;

/** A trust policy that lets one Kubernetes service account assume a role (IRSA). */
export function irsaTrust(
  providerArn: pulumi.Input<string>,
  issuerUrl: pulumi.Input<string>,
  serviceAccounts: string[],
): pulumi.Output<string> {
  return pulumi.all([providerArn, issuerUrl]).apply(([arn, url]) => {
    const issuer = url.replace(/^https:\/\//, '');
    return JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: arn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${issuer}:aud`]: 'sts.amazonaws.com',
              [`${issuer}:sub`]: serviceAccounts.map((sa) => `system:serviceaccount:${sa}`),
            },
          },
        },
      ],
    });
  });
}

export function createCluster(args: ClusterArgs) {
  const { name, network, tags } = args;
  const vpcId = network.vpc.id;

  // --- security groups --------------------------------------------------
  const controlPlaneSg = new aws.ec2.SecurityGroup(`${name}-control-plane`, {
    vpcId,
    description: 'EKS control plane (additional)',
    tags: { ...tags, Name: `${name}-control-plane` },
  });
  const nodeSg = new aws.ec2.SecurityGroup(`${name}-nodes`, {
    vpcId,
    description: 'EKS nodes',
    tags: { ...tags, Name: `${name}-nodes` },
  });
  const rule = (id: string, args: aws.vpc.SecurityGroupIngressRuleArgs) =>
    new aws.vpc.SecurityGroupIngressRule(`${name}-${id}`, { ...args, tags });
  // Nodes talk to each other freely (pod network; NetworkPolicies narrow it).
  rule('nodes-from-nodes', {
    securityGroupId: nodeSg.id,
    referencedSecurityGroupId: nodeSg.id,
    ipProtocol: '-1',
    description: 'node to node',
  });
  // The control plane reaches kubelets, the API of extension servers, and the
  // admission webhooks (Load Balancer Controller, CloudNativePG, External
  // Secrets, Kyverno listen on 9443).
  rule('nodes-from-control-plane-443', {
    securityGroupId: nodeSg.id,
    referencedSecurityGroupId: controlPlaneSg.id,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'control plane to extension API servers',
  });
  rule('nodes-from-control-plane-kubelet', {
    securityGroupId: nodeSg.id,
    referencedSecurityGroupId: controlPlaneSg.id,
    ipProtocol: 'tcp',
    fromPort: 10250,
    toPort: 10250,
    description: 'control plane to kubelet',
  });
  rule('nodes-from-control-plane-webhooks', {
    securityGroupId: nodeSg.id,
    referencedSecurityGroupId: controlPlaneSg.id,
    ipProtocol: 'tcp',
    fromPort: 9443,
    toPort: 9443,
    description: 'control plane to admission webhooks',
  });
  rule('control-plane-from-nodes', {
    securityGroupId: controlPlaneSg.id,
    referencedSecurityGroupId: nodeSg.id,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'nodes to the Kubernetes API',
  });
  for (const [id, sg] of [
    ['nodes', nodeSg],
    ['control-plane', controlPlaneSg],
  ] as const) {
    new aws.vpc.SecurityGroupEgressRule(`${name}-${id}-egress`, {
      securityGroupId: sg.id,
      cidrIpv4: '0.0.0.0/0',
      ipProtocol: '-1',
      description: 'outbound (through the NAT gateways)',
      tags,
    });
  }

  // --- the cluster --------------------------------------------------------
  const secretsKey = new aws.kms.Key(`${name}-eks-secrets`, {
    description: `${args.clusterName} Kubernetes secrets`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    tags,
  });
  const clusterRole = new aws.iam.Role(`${name}-cluster`, {
    assumeRolePolicy: assumeBy('eks.amazonaws.com'),
    tags,
  });
  new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, {
    role: clusterRole.name,
    policyArn: managed('AmazonEKSClusterPolicy'),
  });
  const nodeSubnetIds = network.zones.map((z) => z.nodeSubnet.id);
  const cluster = new aws.eks.Cluster(`${name}-eks`, {
    name: args.clusterName,
    version: args.kubernetesVersion,
    roleArn: clusterRole.arn,
    vpcConfig: {
      subnetIds: nodeSubnetIds,
      securityGroupIds: [controlPlaneSg.id],
      // The API is reachable from inside the VPC only (bastion, VPN, CI runners there).
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
    },
    accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
    encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ['secrets'] },
    enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
    tags,
  });

  // --- who may use it (access entries) -------------------------------------
  const access = (
    id: string,
    principalArn: string,
    policy: string,
    scope: aws.types.input.eks.AccessPolicyAssociationAccessScope,
  ) => {
    const entry = new aws.eks.AccessEntry(`${name}-access-${id}`, {
      clusterName: cluster.name,
      principalArn,
      type: 'STANDARD',
      tags,
    });
    new aws.eks.AccessPolicyAssociation(
      `${name}-access-${id}`,
      {
        clusterName: cluster.name,
        principalArn,
        policyArn: `arn:aws:eks::aws:cluster-access-policy/${policy}`,
        accessScope: scope,
      },
      { dependsOn: [entry] },
    );
  };
  args.adminRoleArns.forEach((arn, i) =>
    access(`admin-${i}`, arn, 'AmazonEKSClusterAdminPolicy', { type: 'cluster' }),
  );
  access('ci', args.ciRoleArn, 'AmazonEKSEditPolicy', {
    type: 'namespace',
    namespaces: args.ciNamespaces,
  });

  // --- nodes ---------------------------------------------------------------
  const nodeRole = new aws.iam.Role(`${name}-nodes`, {
    assumeRolePolicy: assumeBy('ec2.amazonaws.com'),
    tags,
  });
  for (const policy of [
    'AmazonEKSWorkerNodePolicy',
    'AmazonEKS_CNI_Policy',
    'AmazonEC2ContainerRegistryReadOnly',
    'AmazonSSMManagedInstanceCore',
  ]) {
    new aws.iam.RolePolicyAttachment(`${name}-nodes-${policy}`, {
      role: nodeRole.name,
      policyArn: managed(policy),
    });
  }
  const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-nodes`, {
    // The cluster security group (EKS-managed) plus ours.
    vpcSecurityGroupIds: [nodeSg.id, cluster.vpcConfig.clusterSecurityGroupId],
    // IMDSv2 only, one hop: pods cannot borrow the node's IAM role.
    metadataOptions: {
      httpEndpoint: 'enabled',
      httpTokens: 'required',
      httpPutResponseHopLimit: 1,
    },
    blockDeviceMappings: [
      {
        deviceName: '/dev/xvda',
        ebs: { volumeSize: 50, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
      },
    ],
    tagSpecifications: [
      { resourceType: 'instance', tags: { ...tags, Name: `${args.clusterName}-node` } },
    ],
    tags,
  });
  const nodeGroup = (
    id: string,
    subnets: pulumi.Input<string>[],
    extra: Partial<aws.eks.NodeGroupArgs> & Pick<aws.eks.NodeGroupArgs, 'scalingConfig'>,
  ) =>
    new aws.eks.NodeGroup(`${name}-${id}`, {
      clusterName: cluster.name,
      nodeGroupName: id,
      nodeRoleArn: nodeRole.arn,
      subnetIds: subnets,
      amiType: 'AL2023_x86_64_STANDARD',
      instanceTypes: args.nodeInstanceTypes,
      launchTemplate: {
        id: launchTemplate.id,
        version: pulumi.interpolate`${launchTemplate.latestVersion}`,
      },
      updateConfig: { maxUnavailable: 1 },
      tags,
      ...extra,
    });
  const general = nodeGroup('general', nodeSubnetIds, {
    scalingConfig: { minSize: 3, desiredSize: 3, maxSize: 12 },
    labels: { 'missionlink.io/pool': 'general' },
  });
  const databases = nodeGroup(
    'databases',
    network.zones.map((z) => z.databaseSubnet.id),
    {
      scalingConfig: { minSize: 3, desiredSize: 3, maxSize: 6 },
      labels: { 'missionlink.io/pool': 'databases' },
      // Only PostgreSQL (CloudNativePG clusters tolerate this) runs here.
      taints: [{ key: 'missionlink.io/pool', value: 'databases', effect: 'NO_SCHEDULE' }],
    },
  );

  // --- IRSA: service accounts assume IAM roles -----------------------------
  const issuerUrl = cluster.identities.apply((ids) => ids[0]!.oidcs![0]!.issuer!);
  const oidc = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, {
    url: issuerUrl,
    clientIdLists: ['sts.amazonaws.com'],
    thumbprintLists: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
    tags,
  });
  const lbPolicy = new aws.iam.Policy(`${name}-lb-controller`, {
    description: 'AWS Load Balancer Controller',
    policy: JSON.stringify(lbControllerPolicy),
    tags,
  });
  const lbControllerRole = new aws.iam.Role(`${name}-lb-controller`, {
    assumeRolePolicy: irsaTrust(oidc.arn, issuerUrl, ['kube-system:aws-load-balancer-controller']),
    tags,
  });
  new aws.iam.RolePolicyAttachment(`${name}-lb-controller`, {
    role: lbControllerRole.name,
    policyArn: lbPolicy.arn,
  });

  // --- the bastion (only with an allow-list) --------------------------------
  let bastion: aws.ec2.Instance | undefined;
  if (args.bastionAllowedCidrs.length) {
    const bastionSg = new aws.ec2.SecurityGroup(`${name}-bastion`, {
      vpcId,
      description: 'bastion: SSH from allow-listed addresses only',
      tags: { ...tags, Name: `${name}-bastion` },
    });
    args.bastionAllowedCidrs.forEach((cidr, i) => {
      if (/^0\.0\.0\.0\/0$|^::\/0$/.test(cidr))
        throw new Error('the bastion allow-list must not be the whole internet');
      new aws.vpc.SecurityGroupIngressRule(`${name}-bastion-ssh-${i}`, {
        securityGroupId: bastionSg.id,
        cidrIpv4: cidr,
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        description: 'SSH from an allow-listed address',
        tags,
      });
    });
    new aws.vpc.SecurityGroupEgressRule(`${name}-bastion-egress`, {
      securityGroupId: bastionSg.id,
      cidrIpv4: network.vpc.cidrBlock,
      ipProtocol: '-1',
      description: 'into the VPC only',
      tags,
    });
    rule('control-plane-from-bastion', {
      securityGroupId: controlPlaneSg.id,
      referencedSecurityGroupId: bastionSg.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'bastion to the Kubernetes API',
    });
    const ami = aws.ssm.getParameterOutput({
      name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
    bastion = new aws.ec2.Instance(`${name}-bastion`, {
      ami: ami.value,
      instanceType: 't3.micro',
      subnetId: network.zones[0]!.publicSubnet.id,
      vpcSecurityGroupIds: [bastionSg.id],
      associatePublicIpAddress: true,
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      },
      rootBlockDevice: { encrypted: true, volumeSize: 16, volumeType: 'gp3' },
      tags: { ...tags, Name: `${name}-bastion` },
    });
  }

  return {
    cluster,
    controlPlaneSg,
    nodeSg,
    general,
    databases,
    oidc,
    issuerUrl,
    lbControllerRole,
    bastion,
  };
}
