// The VPC: three availability zones, each with a public subnet (the load
// balancer, the zone's NAT gateway), a private subnet for the Kubernetes
// nodes and a private subnet for the database nodes. The node subnets reach
// the internet only through their own zone's NAT gateway, so losing one zone
// never cuts the others off. The database subnets have no route to the
// internet at all (망분리: the systems holding personal and financial data
// are cut off from the internet): they reach AWS (ECR, STS, S3, Secrets
// Manager, logs, SSM, EC2) through VPC endpoints only (endpoints.ts).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { subnetCidrs } from './subnets.ts';

export { subnetCidrs } from './subnets.ts';

export interface NetworkArgs {
  name: string;
  clusterName: string;
  cidrBlock: string;
  availabilityZones: string[];
  tags: Record<string, string>;
}

export interface Zone {
  az: string;
  publicSubnet: aws.ec2.Subnet;
  nodeSubnet: aws.ec2.Subnet;
  databaseSubnet: aws.ec2.Subnet;
  natGateway: aws.ec2.NatGateway;
  /** The node subnet's route table (NAT). */
  nodeRoutes: aws.ec2.RouteTable;
  /** The database subnet's route table: no route leaves the VPC but the S3 gateway endpoint. */
  databaseRoutes: aws.ec2.RouteTable;
}

export interface Network {
  vpc: aws.ec2.Vpc;
  zones: Zone[];
}

export function createNetwork(args: NetworkArgs, opts?: pulumi.ComponentResourceOptions): Network {
  if (args.availabilityZones.length !== 3)
    throw new Error('MissionLink spreads over exactly three availability zones');
  const { name, tags } = args;
  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: args.cidrBlock,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { ...tags, Name: `${name}-vpc` },
    },
    opts,
  );
  const igw = new aws.ec2.InternetGateway(
    `${name}-igw`,
    { vpcId: vpc.id, tags: { ...tags, Name: `${name}-igw` } },
    opts,
  );
  const publicRoutes = new aws.ec2.RouteTable(
    `${name}-public`,
    {
      vpcId: vpc.id,
      routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
      tags: { ...tags, Name: `${name}-public` },
    },
    opts,
  );
  const cluster = `kubernetes.io/cluster/${args.clusterName}`;

  const zones = args.availabilityZones.map((az, i): Zone => {
    const cidrs = subnetCidrs(args.cidrBlock, i);
    const publicSubnet = new aws.ec2.Subnet(
      `${name}-public-${az}`,
      {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrs.public,
        // Nothing gets a public address by default; the bastion asks for one.
        mapPublicIpOnLaunch: false,
        tags: {
          ...tags,
          Name: `${name}-public-${az}`,
          tier: 'public',
          'kubernetes.io/role/elb': '1',
          [cluster]: 'shared',
        },
      },
      opts,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-public-${az}`,
      { subnetId: publicSubnet.id, routeTableId: publicRoutes.id },
      opts,
    );

    const eip = new aws.ec2.Eip(
      `${name}-nat-${az}`,
      { domain: 'vpc', tags: { ...tags, Name: `${name}-nat-${az}` } },
      opts,
    );
    const natGateway = new aws.ec2.NatGateway(
      `${name}-nat-${az}`,
      {
        allocationId: eip.id,
        subnetId: publicSubnet.id,
        tags: { ...tags, Name: `${name}-nat-${az}` },
      },
      { ...opts, dependsOn: [igw] },
    );
    const privateRoutes = new aws.ec2.RouteTable(
      `${name}-private-${az}`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: natGateway.id }],
        tags: { ...tags, Name: `${name}-private-${az}` },
      },
      opts,
    );

    const nodeSubnet = new aws.ec2.Subnet(
      `${name}-nodes-${az}`,
      {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrs.nodes,
        mapPublicIpOnLaunch: false,
        tags: {
          ...tags,
          Name: `${name}-nodes-${az}`,
          tier: 'nodes',
          'kubernetes.io/role/internal-elb': '1',
          [cluster]: 'shared',
        },
      },
      opts,
    );
    const databaseSubnet = new aws.ec2.Subnet(
      `${name}-databases-${az}`,
      {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrs.databases,
        mapPublicIpOnLaunch: false,
        tags: { ...tags, Name: `${name}-databases-${az}`, tier: 'databases' },
      },
      opts,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-nodes-${az}`,
      { subnetId: nodeSubnet.id, routeTableId: privateRoutes.id },
      opts,
    );
    // No default route: only the VPC itself (and, added by endpoints.ts, the
    // S3 gateway endpoint's prefix list).
    const databaseRoutes = new aws.ec2.RouteTable(
      `${name}-databases-${az}`,
      { vpcId: vpc.id, tags: { ...tags, Name: `${name}-databases-${az}`, tier: 'databases' } },
      opts,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-databases-${az}`,
      { subnetId: databaseSubnet.id, routeTableId: databaseRoutes.id },
      opts,
    );
    return {
      az,
      publicSubnet,
      nodeSubnet,
      databaseSubnet,
      natGateway,
      nodeRoutes: privateRoutes,
      databaseRoutes,
    };
  });
  return { vpc, zones };
}
