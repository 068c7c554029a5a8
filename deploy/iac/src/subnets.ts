// The subnet layout of the VPC, as plain data (no Pulumi imports): network.ts
// builds the subnets from it, and test/deploy checks the manifests against it
// (the api's TRUST_PROXY is the node subnets, where the Envoy proxy pods get
// their addresses).

/** The CIDRs of one zone's subnets. */
export interface ZoneCidrs {
  public: string;
  nodes: string;
  databases: string;
}

/** Splits a /16 into the subnets of `zone` (0-based): public /20, nodes /19, databases /22. */
export function subnetCidrs(cidrBlock: string, zone: number): ZoneCidrs {
  const [a, b] = cidrBlock.split('.');
  if (!cidrBlock.endsWith('/16')) throw new Error(`the VPC CIDR must be a /16, got ${cidrBlock}`);
  return {
    public: `${a}.${b}.${zone * 16}.0/20`, // x.y.0.0, x.y.16.0, x.y.32.0
    nodes: `${a}.${b}.${64 + zone * 32}.0/19`, // x.y.64.0, x.y.96.0, x.y.128.0
    databases: `${a}.${b}.${192 + zone * 4}.0/22`, // x.y.192.0, x.y.196.0, x.y.200.0
  };
}
