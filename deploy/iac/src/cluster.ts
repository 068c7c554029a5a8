// The EKS cluster in the private subnets: a private API endpoint, managed
// node groups (general workloads in the node subnets, PostgreSQL in the
// database subnets, behind their own security group), IAM access entries for
// the admin and CI roles, the control plane's access to admission webhooks on
// port 9443, IRSA, the AWS Load Balancer Controller's role and the EKS
// add-ons (addons.ts). Only the load balancer (created by that controller for
// the Gateway) faces the internet: people reach the private API through an
// admin host they open with SSM Session Manager (no SSH, no inbound port, no
// public address; every session is in CloudTrail).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createAddons } from './addons.ts';
import { createRegistryMirror } from './registry.ts';
import { irsaTrust } from './irsa.ts';
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
  /** Whether to run the admin host (SSM Session Manager, no SSH) for reaching the private API. */
  adminHost: boolean;
  /** The control plane's log group (separation.ts): created before the cluster, with retention. */
  controlPlaneLogs: pulumi.Resource;
  /** The VPC's CIDR: the database nodes and the admin host talk to nothing outside it (but S3). */
  vpcCidr: pulumi.Input<string>;
  region: string;
  nodeInstanceTypes: string[];
  tags: Record<string, string>;
}

const assumeBy = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
const managed = (policy: string) => `arn:aws:iam::aws:policy/${policy}`;

export { irsaTrust } from './irsa.ts';

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
  // The database nodes' own group: nothing reaches PostgreSQL but the app
  // nodes on 5432 (below), and it never talks to the internet.
  const databaseSg = new aws.ec2.SecurityGroup(`${name}-databases`, {
    vpcId,
    description: 'EKS database nodes (CloudNativePG): 5432 from the app nodes only',
    tags: { ...tags, Name: `${name}-databases` },
  });
  const rule = (id: string, args: aws.vpc.SecurityGroupIngressRuleArgs) =>
    new aws.vpc.SecurityGroupIngressRule(`${name}-${id}`, { ...args, tags });
  const egress = (id: string, args: aws.vpc.SecurityGroupEgressRuleArgs) =>
    new aws.vpc.SecurityGroupEgressRule(`${name}-${id}`, { ...args, tags });
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
  egress('nodes-egress', {
    securityGroupId: nodeSg.id,
    cidrIpv4: '0.0.0.0/0',
    ipProtocol: '-1',
    description: 'outbound (through the NAT gateways)',
  });
  egress('control-plane-egress', {
    securityGroupId: controlPlaneSg.id,
    cidrIpv4: '0.0.0.0/0',
    ipProtocol: '-1',
    description: 'outbound (kubelets, webhooks)',
  });

  // --- the database nodes' group -------------------------------------------
  // From the app nodes: PostgreSQL (5432) is the only data port. The other
  // two are the operator's and Prometheus' way in: the CloudNativePG
  // operator's instance manager (8000, TLS) and the metrics exporter (9187).
  // The kubelet (10250) is for the control plane and metrics-server, 9100 the
  // node exporter's.
  const fromNodes: [string, number, string][] = [
    ['postgres', 5432, 'PostgreSQL from the app nodes'],
    ['cnpg-status', 8000, 'CloudNativePG operator to the instance manager'],
    ['pg-metrics', 9187, 'Prometheus to the PostgreSQL exporter'],
    ['node-metrics', 9100, 'Prometheus to the node exporter'],
    ['kubelet', 10250, 'metrics-server to the kubelet'],
  ];
  for (const [id, port, description] of fromNodes)
    rule(`databases-from-nodes-${id}`, {
      securityGroupId: databaseSg.id,
      referencedSecurityGroupId: nodeSg.id,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description,
    });
  rule('databases-from-control-plane-kubelet', {
    securityGroupId: databaseSg.id,
    referencedSecurityGroupId: controlPlaneSg.id,
    ipProtocol: 'tcp',
    fromPort: 10250,
    toPort: 10250,
    description: 'control plane to kubelet',
  });
  // Replication and the instance managers between the PostgreSQL pods.
  for (const [id, port] of [
    ['postgres', 5432],
    ['cnpg-status', 8000],
  ] as const)
    rule(`databases-from-databases-${id}`, {
      securityGroupId: databaseSg.id,
      referencedSecurityGroupId: databaseSg.id,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: 'between the PostgreSQL instances',
    });
  // What the database nodes may open: the VPC only (the Kubernetes API, DNS,
  // the VPC endpoints, Loki), and S3 through its gateway endpoint (backups,
  // image layers). No 0.0.0.0/0: there is no route to the internet anyway.
  egress('databases-egress-vpc', {
    securityGroupId: databaseSg.id,
    cidrIpv4: args.vpcCidr,
    ipProtocol: '-1',
    description: 'inside the VPC only',
  });
  const s3PrefixList = aws.ec2.getManagedPrefixListOutput({
    name: `com.amazonaws.${args.region}.s3`,
  });
  egress('databases-egress-s3', {
    securityGroupId: databaseSg.id,
    prefixListId: s3PrefixList.id,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'S3 through the gateway endpoint',
  });
  rule('control-plane-from-databases', {
    securityGroupId: controlPlaneSg.id,
    referencedSecurityGroupId: databaseSg.id,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'database nodes to the Kubernetes API',
  });
  // DNS (CoreDNS runs on the general nodes) and logs (Loki) for pods on the database nodes.
  for (const [id, protocol, port] of [
    ['dns-udp', 'udp', 53],
    ['dns-tcp', 'tcp', 53],
    ['loki', 'tcp', 3100],
  ] as const)
    rule(`nodes-from-databases-${id}`, {
      securityGroupId: nodeSg.id,
      referencedSecurityGroupId: databaseSg.id,
      ipProtocol: protocol,
      fromPort: port,
      toPort: port,
      description: `database nodes to ${id}`,
    });

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
  const cluster = new aws.eks.Cluster(
    `${name}-eks`,
    {
      name: args.clusterName,
      version: args.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: nodeSubnetIds,
        securityGroupIds: [controlPlaneSg.id],
        // The API is reachable from inside the VPC only (the admin host, VPN, CI runners there).
        endpointPrivateAccess: true,
        endpointPublicAccess: false,
      },
      accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ['secrets'] },
      enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
      tags,
    },
    { dependsOn: [args.controlPlaneLogs] },
  );

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
    // Not AmazonEKS_CNI_Policy: the VPC CNI has its own role (addons.ts).
    'AmazonEC2ContainerRegistryReadOnly',
    'AmazonSSMManagedInstanceCore',
  ]) {
    new aws.iam.RolePolicyAttachment(`${name}-nodes-${policy}`, {
      role: nodeRole.name,
      policyArn: managed(policy),
    });
  }
  const launchTemplate = (id: string, securityGroupIds: pulumi.Input<string>[]) =>
    new aws.ec2.LaunchTemplate(`${name}-${id}`, {
      vpcSecurityGroupIds: securityGroupIds,
      // IMDSv2 only, one hop: pods cannot borrow the node's IAM role.
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: {
            volumeSize: 50,
            volumeType: 'gp3',
            encrypted: 'true',
            deleteOnTermination: 'true',
          },
        },
      ],
      tagSpecifications: [
        { resourceType: 'instance', tags: { ...tags, Name: `${args.clusterName}-${id}` } },
      ],
      tags,
    });
  // General nodes: the cluster security group (EKS-managed) plus ours.
  const generalTemplate = launchTemplate('nodes', [
    nodeSg.id,
    cluster.vpcConfig.clusterSecurityGroupId,
  ]);
  // Database nodes: only their own group. The EKS cluster group would admit
  // every port from every node, which is what the database group exists to stop.
  const databaseTemplate = launchTemplate('database-nodes', [databaseSg.id]);
  const nodeGroup = (
    id: string,
    subnets: pulumi.Input<string>[],
    template: aws.ec2.LaunchTemplate,
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
        id: template.id,
        version: pulumi.interpolate`${template.latestVersion}`,
      },
      updateConfig: { maxUnavailable: 1 },
      tags,
      ...extra,
    });
  const general = nodeGroup('general', nodeSubnetIds, generalTemplate, {
    scalingConfig: { minSize: 3, desiredSize: 3, maxSize: 12 },
    labels: { 'missionlink.io/pool': 'general' },
  });
  const databases = nodeGroup(
    'databases',
    network.zones.map((z) => z.databaseSubnet.id),
    databaseTemplate,
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
    // Named: the add-on's Application (deploy/argocd/addons) refers to it.
    name: `${name}-lb-controller`,
    assumeRolePolicy: irsaTrust(oidc.arn, issuerUrl, ['kube-system:aws-load-balancer-controller']),
    tags,
  });
  new aws.iam.RolePolicyAttachment(`${name}-lb-controller`, {
    role: lbControllerRole.name,
    policyArn: lbPolicy.arn,
  });

  // --- images through the VPC: ECR pull-through cache (registry.ts) ---------
  const registry = createRegistryMirror({ name, nodeRole, tags });

  // --- EKS add-ons (vpc-cni with network policies, EBS CSI, metrics-server, …) ---
  const addons = createAddons({
    name,
    kubernetesVersion: args.kubernetesVersion,
    cluster,
    oidcArn: oidc.arn,
    issuerUrl,
    nodeGroups: [general, databases],
    tags,
  });

  // --- the admin host: SSM Session Manager, never SSH ------------------------
  // No inbound rule, no public address, no key pair: `aws ssm start-session`
  // (IAM-authorised, logged in CloudTrail) reaches it through the SSM
  // endpoints, and port forwarding through it reaches the private API.
  let adminHost: aws.ec2.Instance | undefined;
  if (args.adminHost) {
    const adminSg = new aws.ec2.SecurityGroup(`${name}-admin-host`, {
      vpcId,
      description: 'admin host (SSM Session Manager): no inbound rules',
      tags: { ...tags, Name: `${name}-admin-host` },
    });
    egress('admin-host-egress', {
      securityGroupId: adminSg.id,
      cidrIpv4: args.vpcCidr,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'the Kubernetes API and the SSM endpoints, inside the VPC',
    });
    rule('control-plane-from-admin-host', {
      securityGroupId: controlPlaneSg.id,
      referencedSecurityGroupId: adminSg.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'admin host to the Kubernetes API',
    });
    const adminRole = new aws.iam.Role(`${name}-admin-host`, {
      assumeRolePolicy: assumeBy('ec2.amazonaws.com'),
      tags,
    });
    new aws.iam.RolePolicyAttachment(`${name}-admin-host-ssm`, {
      role: adminRole.name,
      policyArn: managed('AmazonSSMManagedInstanceCore'),
    });
    const profile = new aws.iam.InstanceProfile(`${name}-admin-host`, {
      role: adminRole.name,
      tags,
    });
    const ami = aws.ssm.getParameterOutput({
      name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
    adminHost = new aws.ec2.Instance(`${name}-admin-host`, {
      ami: ami.value,
      instanceType: 't3.micro',
      subnetId: network.zones[0]!.nodeSubnet.id,
      vpcSecurityGroupIds: [adminSg.id],
      associatePublicIpAddress: false,
      iamInstanceProfile: profile.name,
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      },
      rootBlockDevice: { encrypted: true, volumeSize: 16, volumeType: 'gp3' },
      tags: { ...tags, Name: `${name}-admin-host` },
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
    databaseSg,
    addons,
    registry,
    adminHost,
  };
}
