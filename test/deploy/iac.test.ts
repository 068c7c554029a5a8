// The Pulumi program under deploy/iac, run offline with pulumi.runtime.setMocks
// (its own package, a workspace of the root: the root's `npm ci` installs it). Checks the network and the
// cluster as data: three zones, a NAT gateway per zone, nodes and databases
// in private subnets, a private API endpoint, access entries, the 9443
// webhook rule, the Load Balancer Controller's role, and that nothing but the
// load balancer and an allow-listed bastion faces the internet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY } from './support.ts';

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
  bastionAllowedCidrs: ['198.51.100.0/24'],
  nodeInstanceTypes: ['m6i.large'],
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

  it('has one NAT gateway per zone, in that zone’s public subnet, serving that zone’s private subnets', () => {
    const nats = of('aws:ec2/natGateway:NatGateway');
    expect(nats).toHaveLength(3);
    const natZone = new Map(nats.map((n) => [n.id, byId(n.inputs.subnetId)!]));
    for (const subnet of natZone.values()) expect(subnet.inputs.tags.tier).toBe('public');
    expect(new Set([...natZone.values()].map((s) => s.inputs.availabilityZone)).size).toBe(3);

    const routeTableOf = (subnetId: string) =>
      byId(
        of('aws:ec2/routeTableAssociation:RouteTableAssociation').find(
          (a) => a.inputs.subnetId === subnetId,
        )!.inputs.routeTableId,
      )!;
    for (const s of [...subnets('nodes'), ...subnets('databases')]) {
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
      expect([sg('nodes'), sg('control-plane')], r.name).toContain(
        r.inputs.referencedSecurityGroupId,
      );
    }
  });

  it('faces the internet only through the bastion, and only from its allow-list', () => {
    const rules = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    const fromAddresses = rules.filter((r) => r.inputs.cidrIpv4 || r.inputs.cidrIpv6);
    for (const r of fromAddresses) {
      expect(r.inputs.cidrIpv4, r.name).not.toBe('0.0.0.0/0');
      expect(r.inputs.cidrIpv6, r.name).toBeUndefined();
      expect(ARGS.bastionAllowedCidrs).toContain(r.inputs.cidrIpv4);
      expect(r.inputs.fromPort).toBe(22);
    }
    const instances = of('aws:ec2/instance:Instance');
    expect(instances).toHaveLength(1);
    expect(instances[0]!.inputs.associatePublicIpAddress).toBe(true);
    expect(byId(instances[0]!.inputs.subnetId)!.inputs.tags.tier).toBe('public');
    expect(instances[0]!.inputs.metadataOptions.httpTokens).toBe('required');
    expect(prod.outputs.bastionPublicIp).toBe('203.0.113.10');
    const block = of('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0]!.inputs;
    expect(block).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it('has no bastion at all without an allow-list', async () => {
    const dev = await run({
      ...ARGS,
      environment: 'dev',
      vpcCidr: '10.50.0.0/16',
      bastionAllowedCidrs: [],
    });
    expect(dev.resources.filter((r) => r.type === 'aws:ec2/instance:Instance')).toEqual([]);
    expect(
      dev.resources.filter(
        (r) =>
          r.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule' &&
          r.inputs.cidrIpv4,
      ),
    ).toEqual([]);
  }, 60_000);

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
    const manifests = ['overlays/prod/secrets.yaml', 'overlays/prod/databases.yaml']
      .map((f) => readFileSync(path.join(DEPLOY, f), 'utf8'))
      .join('\n');
    for (const name of [...manifests.matchAll(/role\/([\w-]+)/g)].map((m) => m[1]))
      expect(
        roles.map((r) => r.inputs.name),
        name,
      ).toContain(name);
    expect(
      subjects(roles.find((r) => r.inputs.name === 'missionlink-prod-secrets-reader')!),
    ).toEqual(['system:serviceaccount:missionlink:external-secrets-reader']);
    expect(subjects(roles.find((r) => r.inputs.name === 'missionlink-prod-db-backup')!)).toEqual([
      'system:serviceaccount:missionlink:identity-db',
      'system:serviceaccount:missionlink:funding-db',
    ]);
    expect(manifests).toContain(`s3://${prod.outputs.backupBucket}/`);
  });
});
