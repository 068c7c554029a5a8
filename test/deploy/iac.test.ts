// The Pulumi program under deploy/iac, run offline with pulumi.runtime.setMocks
// (its own package, a workspace of the root: the root's `npm ci` installs it). Checks the network and the
// cluster as data: three zones, a NAT gateway per zone, nodes and databases
// in private subnets, a private API endpoint, access entries, the 9443
// webhook rule, the Load Balancer Controller's role, the EKS add-ons, the
// separation of the database subnets (no internet route, their own security
// group, VPC endpoints, flow logs) and that nothing but the load balancer
// faces the internet (people come in through SSM Session Manager, not SSH).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, haveTool, podSpecOf, render, type K8sObject } from './support.ts';

const IAC = path.join(DEPLOY, 'iac');

interface Resource {
  type: string;
  name: string;
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- resource inputs are arbitrary
  inputs: Record<string, any>;
}
interface Run {
  resources: Resource[];
  outputs: Record<string, unknown>;
}

const AZS = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'];
const ARGS = {
  environment: 'prod',
  region: 'ap-northeast-2',
  availabilityZones: AZS,
  vpcCidr: '10.40.0.0/16',
  kubernetesVersion: '1.32',
  adminRoleArns: ['arn:aws:iam::111111111111:role/missionlink-admin'],
  ciRoleArn: 'arn:aws:iam::111111111111:role/missionlink-ci',
  adminHost: true,
  nodeInstanceTypes: ['m6i.large'],
  logRetentionDays: 1825,
  imageSigning: true,
  secretRotation: {
    database: {
      lambdaArn: 'arn:aws:lambda:ap-northeast-2:111111111111:function:missionlink-rotate-postgres',
    },
    provider: {
      lambdaArn: 'arn:aws:lambda:ap-northeast-2:111111111111:function:missionlink-rotate-provider',
      schedule: 'rate(60 days)',
    },
  } as Record<string, { lambdaArn: string; schedule?: string }>,
};

async function run(args: typeof ARGS): Promise<Run> {
  // A computed specifier: the root's typecheck must not follow it into Pulumi's types.
  const harness = pathToFileURL(path.join(IAC, 'testing.ts')).href;
  const { runPlatform } = (await import(/* @vite-ignore */ harness)) as {
    runPlatform(a: typeof ARGS): Promise<Run>;
  };
  return runPlatform(args);
}

describe('the AWS platform (Pulumi, mocked)', () => {
  let prod: Run;
  beforeAll(async () => {
    prod = await run(ARGS);
  }, 60_000);
  const of = (type: string) => prod.resources.filter((r) => r.type === type);
  const byId = (id: string) => prod.resources.find((r) => r.id === id);
  const subnets = (tier: string) =>
    of('aws:ec2/subnet:Subnet').filter((s) => s.inputs.tags.tier === tier);

  it('spans three availability zones, each with a public, a node and a database subnet', () => {
    for (const tier of ['public', 'nodes', 'databases']) {
      expect(
        subnets(tier)
          .map((s) => s.inputs.availabilityZone)
          .sort(),
        tier,
      ).toEqual(AZS);
    }
    const cidrs = of('aws:ec2/subnet:Subnet').map((s) => s.inputs.cidrBlock);
    expect(new Set(cidrs).size).toBe(9);
    expect(of('aws:ec2/vpc:Vpc')[0]!.inputs.cidrBlock).toBe('10.40.0.0/16');
    for (const s of of('aws:ec2/subnet:Subnet'))
      expect(s.inputs.mapPublicIpOnLaunch, s.name).toBe(false);
    expect(subnets('public').every((s) => s.inputs.tags['kubernetes.io/role/elb'] === '1')).toBe(
      true,
    );
    expect(
      subnets('nodes').every((s) => s.inputs.tags['kubernetes.io/role/internal-elb'] === '1'),
    ).toBe(true);
  });

  const routeTableOf = (subnetId: string) =>
    byId(
      of('aws:ec2/routeTableAssociation:RouteTableAssociation').find(
        (a) => a.inputs.subnetId === subnetId,
      )!.inputs.routeTableId,
    )!;

  it('has one NAT gateway per zone, in that zone’s public subnet, serving that zone’s node subnet', () => {
    const nats = of('aws:ec2/natGateway:NatGateway');
    expect(nats).toHaveLength(3);
    const natZone = new Map(nats.map((n) => [n.id, byId(n.inputs.subnetId)!]));
    for (const subnet of natZone.values()) expect(subnet.inputs.tags.tier).toBe('public');
    expect(new Set([...natZone.values()].map((s) => s.inputs.availabilityZone)).size).toBe(3);

    for (const s of subnets('nodes')) {
      const routes = routeTableOf(s.id).inputs.routes as {
        cidrBlock: string;
        natGatewayId?: string;
        gatewayId?: string;
      }[];
      expect(routes, s.name).toHaveLength(1);
      expect(routes[0]!.gatewayId, s.name).toBeUndefined();
      expect(natZone.get(routes[0]!.natGatewayId!)!.inputs.availabilityZone, s.name).toBe(
        s.inputs.availabilityZone,
      );
    }
    for (const s of subnets('public')) {
      expect(byId(routeTableOf(s.id).inputs.routes[0].gatewayId)!.type).toBe(
        'aws:ec2/internetGateway:InternetGateway',
      );
    }
  });

  it('gives the database subnets no route out of the VPC: only the S3 gateway endpoint', () => {
    const s3 = of('aws:ec2/vpcEndpoint:VpcEndpoint').find(
      (e) => e.inputs.vpcEndpointType === 'Gateway',
    )!;
    expect(s3.inputs.serviceName).toBe('com.amazonaws.ap-northeast-2.s3');
    for (const s of subnets('databases')) {
      const table = routeTableOf(s.id);
      expect(table.inputs.routes ?? [], s.name).toEqual([]);
      expect(s3.inputs.routeTableIds, s.name).toContain(table.id);
      // Their table is theirs alone: no other subnet shares it (and its NAT route).
      const sharing = of('aws:ec2/routeTableAssociation:RouteTableAssociation').filter(
        (a) => a.inputs.routeTableId === table.id,
      );
      expect(
        sharing.map((a) => a.inputs.subnetId),
        s.name,
      ).toEqual([s.id]);
    }
    expect(of('aws:ec2/route:Route')).toEqual([]);
  });

  it('reaches AWS through VPC endpoints (sts, ecr, secretsmanager, logs, ssm …) with private DNS, HTTPS from the VPC only', () => {
    const interfaces = of('aws:ec2/vpcEndpoint:VpcEndpoint').filter(
      (e) => e.inputs.vpcEndpointType === 'Interface',
    );
    const services = interfaces.map((e) =>
      e.inputs.serviceName.replace('com.amazonaws.ap-northeast-2.', ''),
    );
    for (const needed of [
      'sts',
      'ecr.api',
      'ecr.dkr',
      'secretsmanager',
      'logs',
      'ec2',
      'ssm',
      'ssmmessages',
      'ec2messages',
    ])
      expect(services).toContain(needed);
    const nodeIds = subnets('nodes')
      .map((s) => s.id)
      .sort();
    for (const e of interfaces) {
      expect(e.inputs.privateDnsEnabled, e.name).toBe(true);
      expect([...e.inputs.subnetIds].sort(), e.name).toEqual(nodeIds);
    }
    const sg = byId(interfaces[0]!.inputs.securityGroupIds[0])!;
    const ingress = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter(
      (r) => r.inputs.securityGroupId === sg.id,
    );
    expect(ingress.map((r) => r.inputs)).toEqual([
      expect.objectContaining({
        cidrIpv4: '10.40.0.0/16',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
      }),
    ]);
  });

  it('records every connection in VPC flow logs and keeps them, and the control plane’s logs, encrypted for the configured years', () => {
    const [flow] = of('aws:ec2/flowLog:FlowLog');
    expect(flow!.inputs).toMatchObject({
      vpcId: of('aws:ec2/vpc:Vpc')[0]!.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
    });
    const groups = of('aws:cloudwatch/logGroup:LogGroup');
    expect(groups.map((g) => g.inputs.name).sort()).toEqual([
      '/aws/eks/missionlink-prod/cluster',
      '/missionlink/missionlink-prod/vpc-flow-logs',
    ]);
    for (const g of groups) {
      expect(g.inputs.retentionInDays, g.name).toBe(1825);
      expect(g.inputs.kmsKeyId, g.name).toMatch(/kms/);
    }
    expect(flow!.inputs.logDestination).toBe(
      'arn:aws:mock:::aws:cloudwatch/logGroup:LogGroup/missionlink-prod-flow-logs',
    );
  });

  it('refuses log retention under a year', async () => {
    await expect(
      run({ ...ARGS, environment: 'dev', vpcCidr: '10.50.0.0/16', logRetentionDays: 90 }),
    ).rejects.toThrow(/at least 365 days/);
  }, 60_000);

  it('puts the database nodes behind their own security group: 5432 is the only data port from the app nodes, nothing from addresses', () => {
    const sgs = of('aws:ec2/securityGroup:SecurityGroup');
    const sg = (n: string) => sgs.find((s) => s.name === `missionlink-prod-${n}`)!.id;
    const ingress = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter(
      (r) => r.inputs.securityGroupId === sg('databases'),
    );
    const fromNodes = ingress.filter((r) => r.inputs.referencedSecurityGroupId === sg('nodes'));
    expect(fromNodes.map((r) => r.inputs.fromPort).sort((a, b) => a - b)).toEqual([
      5432, 8000, 9100, 9187, 10250,
    ]);
    for (const r of ingress) {
      expect(r.inputs.cidrIpv4, r.name).toBeUndefined();
      expect(r.inputs.ipProtocol, r.name).toBe('tcp');
      expect(r.inputs.fromPort, r.name).toBe(r.inputs.toPort);
      expect([sg('nodes'), sg('control-plane'), sg('databases')], r.name).toContain(
        r.inputs.referencedSecurityGroupId,
      );
    }
    // Between database instances: replication and the instance manager; from the control plane: the kubelet.
    expect(
      ingress
        .filter((r) => r.inputs.referencedSecurityGroupId === sg('databases'))
        .map((r) => r.inputs.fromPort)
        .sort(),
    ).toEqual([5432, 8000]);
    expect(
      ingress
        .filter((r) => r.inputs.referencedSecurityGroupId === sg('control-plane'))
        .map((r) => r.inputs.fromPort),
    ).toEqual([10250]);
    // It opens nothing outside the VPC but S3's prefix list.
    const egress = of('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').filter(
      (r) => r.inputs.securityGroupId === sg('databases'),
    );
    expect(egress.map((r) => r.inputs.cidrIpv4 ?? r.inputs.prefixListId).sort()).toEqual([
      '10.40.0.0/16',
      'pl-s3mock',
    ]);
    // The database node group's launch template carries only that group (not the EKS cluster group).
    const dbGroup = of('aws:eks/nodeGroup:NodeGroup').find(
      (g) => g.inputs.nodeGroupName === 'databases',
    )!;
    const template = (id: string) =>
      of('aws:ec2/launchTemplate:LaunchTemplate').find((t) => t.id === id)!;
    expect(template(dbGroup.inputs.launchTemplate.id).inputs.vpcSecurityGroupIds).toEqual([
      sg('databases'),
    ]);
    const general = of('aws:eks/nodeGroup:NodeGroup').find(
      (g) => g.inputs.nodeGroupName === 'general',
    )!;
    expect(template(general.inputs.launchTemplate.id).inputs.vpcSecurityGroupIds).toEqual([
      sg('nodes'),
      'sg-eks-cluster',
    ]);
  });

  it('pins the EKS add-ons: vpc-cni enforcing NetworkPolicies, EBS CSI (on tainted nodes too), metrics-server, coredns, kube-proxy', () => {
    const addons: Record<string, Resource['inputs']> = Object.fromEntries(
      of('aws:eks/addon:Addon').map((a) => [a.inputs.addonName, a.inputs]),
    );
    expect(Object.keys(addons).sort()).toEqual([
      'aws-ebs-csi-driver',
      'coredns',
      'kube-proxy',
      'metrics-server',
      'vpc-cni',
    ]);
    for (const [n, a] of Object.entries(addons)) {
      expect(a.addonVersion, n).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
      expect(a.resolveConflictsOnUpdate, n).toBe('OVERWRITE');
    }
    expect(JSON.parse(addons['vpc-cni']!.configurationValues).enableNetworkPolicy).toBe('true');
    expect(
      JSON.parse(addons['aws-ebs-csi-driver']!.configurationValues).node.tolerateAllTaints,
    ).toBe(true);
    // Their controllers use their own IRSA roles; the nodes no longer hold the CNI policy.
    const roles = of('aws:iam/role:Role');
    const subjects = (arn: string) => {
      const role = roles.find((r) => `arn:aws:mock:::aws:iam/role:Role/${r.name}` === arn)!;
      return Object.entries(
        JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals,
      ).find(([k]) => k.endsWith(':sub'))![1];
    };
    expect(subjects(addons['vpc-cni']!.serviceAccountRoleArn)).toEqual([
      'system:serviceaccount:kube-system:aws-node',
    ]);
    expect(subjects(addons['aws-ebs-csi-driver']!.serviceAccountRoleArn)).toEqual([
      'system:serviceaccount:kube-system:ebs-csi-controller-sa',
    ]);
    const attachments = of('aws:iam/rolePolicyAttachment:RolePolicyAttachment');
    const policiesOf = (roleName: string) =>
      attachments.filter((a) => a.inputs.role === roleName).map((a) => a.inputs.policyArn);
    expect(policiesOf('missionlink-prod-ebs-csi')).toEqual([
      'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy',
    ]);
    expect(policiesOf('missionlink-prod-nodes')).not.toContain(
      'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
    );
  });

  it('caches the upstream registries in ECR for the nodes without internet (pull-through cache)', () => {
    const rules = Object.fromEntries(
      of('aws:ecr/pullThroughCacheRule:PullThroughCacheRule').map((r) => [
        r.inputs.ecrRepositoryPrefix,
        r.inputs,
      ]),
    );
    expect(Object.keys(rules).sort()).toEqual(['docker-hub', 'ecr-public', 'ghcr', 'k8s', 'quay']);
    expect(rules.ghcr!.upstreamRegistryUrl).toBe('ghcr.io');
    for (const prefix of ['ghcr', 'docker-hub']) {
      const secret = of('aws:secretsmanager/secret:Secret').find(
        (x) =>
          `arn:aws:mock:::aws:secretsmanager/secret:Secret/${x.name}` ===
          rules[prefix]!.credentialArn,
      )!;
      expect(secret.inputs.name).toMatch(/^ecr-pullthroughcache\//);
    }
    const policy = JSON.parse(
      of('aws:iam/rolePolicy:RolePolicy').find(
        (p) => p.name === 'missionlink-prod-nodes-pull-through',
      )!.inputs.policy,
    ).Statement[0];
    expect(policy.Action).toEqual(['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']);
  });

  it('refuses a Kubernetes version without pinned add-on versions', async () => {
    await expect(
      run({ ...ARGS, environment: 'dev', vpcCidr: '10.50.0.0/16', kubernetesVersion: '1.99' }),
    ).rejects.toThrow(/no pinned EKS add-on versions for Kubernetes 1\.99/);
  }, 60_000);

  it('runs EKS and its managed node groups in private subnets, with a private API endpoint', () => {
    const [cluster] = of('aws:eks/cluster:Cluster');
    const nodeIds = subnets('nodes')
      .map((s) => s.id)
      .sort();
    expect([...cluster!.inputs.vpcConfig.subnetIds].sort()).toEqual(nodeIds);
    expect(cluster!.inputs.vpcConfig.endpointPublicAccess).toBe(false);
    expect(cluster!.inputs.vpcConfig.endpointPrivateAccess).toBe(true);
    expect(cluster!.inputs.accessConfig.authenticationMode).toBe('API');
    expect(cluster!.inputs.encryptionConfig.resources).toEqual(['secrets']);
    const groups = of('aws:eks/nodeGroup:NodeGroup');
    expect(groups.map((g) => g.inputs.nodeGroupName).sort()).toEqual(['databases', 'general']);
    const general = groups.find((g) => g.inputs.nodeGroupName === 'general')!;
    const databases = groups.find((g) => g.inputs.nodeGroupName === 'databases')!;
    expect([...general.inputs.subnetIds].sort()).toEqual(nodeIds);
    expect([...databases.inputs.subnetIds].sort()).toEqual(
      subnets('databases')
        .map((s) => s.id)
        .sort(),
    );
    expect(databases.inputs.taints).toEqual([
      { key: 'missionlink.io/pool', value: 'databases', effect: 'NO_SCHEDULE' },
    ]);
    for (const g of groups)
      expect(g.inputs.scalingConfig.minSize, g.name).toBeGreaterThanOrEqual(3);
    const [template] = of('aws:ec2/launchTemplate:LaunchTemplate');
    expect(template!.inputs.metadataOptions).toMatchObject({
      httpTokens: 'required',
      httpPutResponseHopLimit: 1,
    });
  });

  it('gives the admin role cluster-admin and the CI role edit rights in its namespace only', () => {
    const entries = of('aws:eks/accessEntry:AccessEntry')
      .map((e) => e.inputs.principalArn)
      .sort();
    expect(entries).toEqual([ARGS.adminRoleArns[0], ARGS.ciRoleArn].sort());
    const assoc = Object.fromEntries(
      of('aws:eks/accessPolicyAssociation:AccessPolicyAssociation').map((a) => [
        a.inputs.principalArn,
        a.inputs,
      ]),
    );
    expect(assoc[ARGS.adminRoleArns[0]!]).toMatchObject({
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      accessScope: { type: 'cluster' },
    });
    expect(assoc[ARGS.ciRoleArn]).toMatchObject({
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
      accessScope: { type: 'namespace', namespaces: ['missionlink'] },
    });
  });

  it('lets the control plane reach admission webhooks on 9443 (and nothing else reach the nodes from outside)', () => {
    const rules = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    const sg = (name: string) =>
      of('aws:ec2/securityGroup:SecurityGroup').find((s) => s.name === `missionlink-prod-${name}`)!
        .id;
    const webhook = rules.find((r) => r.inputs.fromPort === 9443);
    expect(webhook?.inputs).toMatchObject({
      securityGroupId: sg('nodes'),
      referencedSecurityGroupId: sg('control-plane'),
      ipProtocol: 'tcp',
      toPort: 9443,
    });
    for (const r of rules.filter((r) => r.inputs.securityGroupId === sg('nodes'))) {
      expect(r.inputs.cidrIpv4, r.name).toBeUndefined();
      // The database nodes may reach DNS and Loki on the general nodes, nothing else.
      if (r.inputs.referencedSecurityGroupId === sg('databases')) {
        expect([53, 3100], r.name).toContain(r.inputs.fromPort);
        continue;
      }
      expect([sg('nodes'), sg('control-plane')], r.name).toContain(
        r.inputs.referencedSecurityGroupId,
      );
    }
  });

  it('faces the internet from no address: no SSH anywhere, the admin host is reached through SSM only', () => {
    const rules = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    const fromAddresses = rules.filter((r) => r.inputs.cidrIpv4 || r.inputs.cidrIpv6);
    // The only address-based rule is HTTPS from the VPC into the endpoints.
    expect(fromAddresses.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort])).toEqual([
      ['10.40.0.0/16', 443],
    ]);
    expect(rules.filter((r) => r.inputs.fromPort === 22 || r.inputs.toPort === 22)).toEqual([]);
    const instances = of('aws:ec2/instance:Instance');
    expect(instances).toHaveLength(1);
    const host = instances[0]!.inputs;
    expect(host.associatePublicIpAddress).toBe(false);
    expect(host.keyName).toBeUndefined();
    expect(byId(host.subnetId)!.inputs.tags.tier).toBe('nodes');
    expect(host.metadataOptions.httpTokens).toBe('required');
    const sg = host.vpcSecurityGroupIds[0];
    expect(rules.filter((r) => r.inputs.securityGroupId === sg)).toEqual([]);
    const [profile] = of('aws:iam/instanceProfile:InstanceProfile');
    expect(host.iamInstanceProfile).toBe(profile!.inputs.name ?? profile!.name);
    expect(
      of('aws:iam/rolePolicyAttachment:RolePolicyAttachment')
        .filter((a) => a.inputs.role === profile!.inputs.role)
        .map((a) => a.inputs.policyArn),
    ).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
    expect(prod.outputs.adminHostId).toBe('missionlink-prod-admin-host-id');
    const block = of('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0]!.inputs;
    expect(block).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it('makes the image-signing key: Jenkins may sign, Kyverno may only read the public key', () => {
    const [key] = of('aws:kms/key:Key').filter((k) => k.inputs.keyUsage === 'SIGN_VERIFY');
    expect(key!.inputs.customerMasterKeySpec).toBe('ECC_NIST_P256');
    expect(of('aws:kms/alias:Alias')[0]!.inputs.name).toBe('alias/missionlink-image-signing');
    const policyOf = (role: string) =>
      JSON.parse(of('aws:iam/rolePolicy:RolePolicy').find((p) => p.name === role)!.inputs.policy)
        .Statement[0];
    expect(policyOf('missionlink-prod-jenkins-signer').Action).toContain('kms:Sign');
    expect(policyOf('missionlink-prod-kyverno').Action).not.toContain('kms:Sign');
    expect(policyOf('missionlink-prod-kyverno').Resource).toBe(
      'arn:aws:mock:::aws:kms/key:Key/missionlink-prod-image-signing',
    );
    const trust = (name: string) =>
      JSON.stringify(of('aws:iam/role:Role').find((r) => r.name === name)!.inputs.assumeRolePolicy);
    expect(trust('missionlink-prod-kyverno')).toContain(
      'system:serviceaccount:kyverno:kyverno-admission-controller',
    );
    expect(trust('missionlink-prod-jenkins-signer')).toContain(
      'system:serviceaccount:jenkins-agents:jenkins-agent',
    );
  });

  it('has no admin host when it is turned off, and no signing key unless asked', async () => {
    const dev = await run({
      ...ARGS,
      environment: 'dev',
      vpcCidr: '10.50.0.0/16',
      adminHost: false,
      imageSigning: false,
      secretRotation: {},
    });
    expect(dev.resources.filter((r) => r.type === 'aws:ec2/instance:Instance')).toEqual([]);
    expect(dev.resources.filter((r) => r.type === 'aws:kms/alias:Alias')).toEqual([]);
    // No rotation until it is configured (the secrets must hold their values first).
    expect(
      dev.resources.filter((r) => r.type === 'aws:secretsmanager/secretRotation:SecretRotation'),
    ).toEqual([]);
    expect(dev.outputs.rotatedSecrets).toEqual([]);
  }, 60_000);

  it('rotates the database and provider secrets on a schedule, each kind with its own function, never the audit key', async () => {
    const rotations = of('aws:secretsmanager/secretRotation:SecretRotation');
    const bySecret = Object.fromEntries(rotations.map((r) => [r.inputs.secretId, r.inputs]));
    expect(Object.keys(bySecret).sort()).toEqual([
      'missionlink/prod/funding-db',
      'missionlink/prod/identity-db',
      'missionlink/prod/payment-webhook-secret',
    ]);
    expect(prod.outputs.rotatedSecrets).toEqual(rotations.map((r) => r.inputs.secretId));
    const { database, provider } = ARGS.secretRotation;
    for (const db of ['identity-db', 'funding-db'])
      expect(bySecret[`missionlink/prod/${db}`]).toMatchObject({
        rotationLambdaArn: database!.lambdaArn,
        // Monthly by default, at night in Korea, within a window.
        rotationRules: { scheduleExpression: 'cron(0 18 1 * ? *)', duration: '2h' },
        rotateImmediately: false,
      });
    expect(bySecret['missionlink/prod/payment-webhook-secret']).toMatchObject({
      rotationLambdaArn: provider!.lambdaArn,
      rotationRules: { scheduleExpression: 'rate(60 days)' },
    });
    expect(JSON.stringify(rotations)).not.toContain('audit-hmac-key');
    // Secrets Manager may invoke each function for its own secrets only, from this account.
    const permissions = of('aws:lambda/permission:Permission');
    expect(permissions).toHaveLength(3);
    for (const [secret, fn] of [
      ['identity-db', database!.lambdaArn],
      ['funding-db', database!.lambdaArn],
      ['payment-webhook-secret', provider!.lambdaArn],
    ]) {
      const p = permissions.find((x) => x.inputs.sourceArn.endsWith(`/${secret}-??????`))!;
      expect(p.inputs, secret).toMatchObject({
        function: fn,
        action: 'lambda:InvokeFunction',
        principal: 'secretsmanager.amazonaws.com',
        sourceAccount: '111111111111',
        sourceArn: `arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:missionlink/prod/${secret}-??????`,
      });
    }
    await expect(
      run({ ...ARGS, secretRotation: { database: { lambdaArn: 'missionlink-rotate-postgres' } } }),
    ).rejects.toThrow(/secretRotation\.database\.lambdaArn must be a Lambda function ARN/);
  }, 60_000);

  const hasKubectl = haveTool(
    'kubectl',
    'checking that rotated secrets reach the pods',
    'install kubectl',
  );
  it.skipIf(!hasKubectl)(
    'rotates only what reaches the pods: refreshed by External Secrets, applied by CloudNativePG, Deployments restarted by Reloader',
    () => {
      const objs = render('overlays/prod');
      const store = objs.find(
        (o) => o.kind === 'SecretStore' && o.metadata.name === 'missionlink',
      )!;
      const prefix = store.spec.provider.aws.prefix as string;
      expect(prefix).toBe('missionlink/prod/');
      const externalSecrets = objs.filter((o) => o.kind === 'ExternalSecret');
      const deployments = objs.filter((o) => o.kind === 'Deployment');
      const reads = (d: K8sObject, secret: string) =>
        JSON.stringify(podSpecOf(d)).includes(`"name":"${secret}"`);
      for (const rotation of of('aws:secretsmanager/secretRotation:SecretRotation')) {
        const key = (rotation.inputs.secretId as string).slice(prefix.length);
        expect(rotation.inputs.secretId).toBe(prefix + key);
        // Exactly one ExternalSecret reads it, and re-reads it (not the audit key's 0s).
        const [es, ...more] = externalSecrets.filter((e) =>
          (e.spec.data as { remoteRef: { key: string } }[]).some((d) => d.remoteRef.key === key),
        );
        expect(es, key).toBeDefined();
        expect(more, key).toEqual([]);
        expect(es!.spec.refreshInterval, key).toMatch(/^[1-9]\d*[smh]$/);
        const target = es!.spec.target.name as string;
        // Every Deployment that reads the Secret restarts when it changes.
        const readers = deployments.filter((d) => reads(d, target));
        expect(readers.length, target).toBeGreaterThan(0);
        for (const d of readers)
          expect(d.metadata.annotations?.['reloader.stakater.com/auto'], d.metadata.name).toBe(
            'true',
          );
        if (key.endsWith('-db')) {
          // CloudNativePG bootstrapped the owner from this Secret, so it sets the new password, at once.
          const cluster = objs.find(
            (o) =>
              o.kind === 'Cluster' &&
              o.metadata.name === key &&
              o.apiVersion.startsWith('postgresql.cnpg.io/'),
          )!;
          expect(cluster.spec.bootstrap.initdb.secret.name, key).toBe(target);
          expect(es!.spec.target.template.metadata.labels['cnpg.io/reload'], key).toBe('true');
          expect(es!.spec.target.template.type, key).toBe('kubernetes.io/basic-auth');
        }
      }
    },
    60_000,
  );

  it('gives the Load Balancer Controller and the manifests’ service accounts their IAM roles (IRSA)', () => {
    const roles = of('aws:iam/role:Role');
    const trust = (r: Resource) => JSON.parse(r.inputs.assumeRolePolicy).Statement[0];
    const subjects = (r: Resource) =>
      Object.entries(trust(r).Condition.StringEquals as Record<string, string | string[]>).find(
        ([k]) => k.endsWith(':sub'),
      )![1];
    const lb = roles.find((r) => r.name === 'missionlink-prod-lb-controller')!;
    expect(trust(lb).Principal.Federated).toBe(
      'arn:aws:mock:::aws:iam/openIdConnectProvider:OpenIdConnectProvider/missionlink-prod-oidc',
    );
    expect(trust(lb).Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(subjects(lb)).toEqual([
      'system:serviceaccount:kube-system:aws-load-balancer-controller',
    ]);
    const lbPolicy = JSON.parse(
      of('aws:iam/policy:Policy').find((p) => p.name === 'missionlink-prod-lb-controller')!.inputs
        .policy,
    );
    expect(lbPolicy.Statement.flatMap((s: { Action: string[] }) => s.Action)).toContain(
      'elasticloadbalancing:CreateLoadBalancer',
    );

    // The role names and bucket the prod overlay's manifests refer to exist.
    const manifests = [
      'overlays/prod/secrets.yaml',
      'overlays/prod/databases.yaml',
      'monitoring/cluster/prod/kustomization.yaml',
      'argocd/addons/aws-load-balancer-controller.yaml',
    ]
      .map((f) => readFileSync(path.join(DEPLOY, f), 'utf8'))
      .join('\n');
    for (const name of [...manifests.matchAll(/role\/([\w-]+)/g)].map((m) => m[1]))
      expect(
        roles.map((r) => r.inputs.name),
        name,
      ).toContain(name);
    expect(
      subjects(roles.find((r) => r.inputs.name === 'missionlink-prod-secrets-reader')!),
    ).toEqual([
      'system:serviceaccount:missionlink:external-secrets-reader',
      'system:serviceaccount:monitoring:external-secrets-reader',
    ]);
    expect(subjects(roles.find((r) => r.inputs.name === 'missionlink-prod-db-backup')!)).toEqual([
      'system:serviceaccount:missionlink:identity-db',
      'system:serviceaccount:missionlink:funding-db',
    ]);
    expect(manifests).toContain(`s3://${prod.outputs.backupBucket}/`);
  });
});
