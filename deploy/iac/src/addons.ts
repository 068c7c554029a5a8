// The EKS add-ons a MissionLink cluster cannot run without, managed by EKS
// and pinned here (never "whatever EKS installs by default"):
// - vpc-cni with network policy enforcement on: without it every
//   NetworkPolicy under deploy/base/network-policies is accepted and ignored;
// - aws-ebs-csi-driver: the CloudNativePG and NATS volume claims bind to
//   the encrypted gp3 StorageClass in deploy/cluster/storage (EKS ≥ 1.30 has no
//   default StorageClass, so without both they stay Pending);
// - metrics-server: the HPAs' CPU metric;
// - coredns and kube-proxy: pinned like the rest, so an upgrade is a diff.
// Every other cluster add-on (Envoy Gateway, cert-manager, CloudNativePG,
// External Secrets, Kyverno, monitoring, logging, Reloader, KEDA) comes from
// Argo CD (deploy/argocd/addons), as Helm charts pinned there.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { irsaTrust } from './irsa.ts';

/** The add-on versions known to work, per Kubernetes minor version. */
export const ADDON_VERSIONS: Record<string, Record<AddonName, string>> = {
  // Check with: aws eks describe-addon-versions --kubernetes-version 1.32 --addon-name <name>
  '1.32': {
    'vpc-cni': 'v1.19.5-eksbuild.1',
    'aws-ebs-csi-driver': 'v1.41.0-eksbuild.1',
    'metrics-server': 'v0.7.2-eksbuild.3',
    coredns: 'v1.11.4-eksbuild.2',
    'kube-proxy': 'v1.32.0-eksbuild.2',
  },
};
export type AddonName =
  'vpc-cni' | 'aws-ebs-csi-driver' | 'metrics-server' | 'coredns' | 'kube-proxy';

export interface AddonsArgs {
  name: string;
  kubernetesVersion: string;
  cluster: aws.eks.Cluster;
  oidcArn: pulumi.Input<string>;
  issuerUrl: pulumi.Input<string>;
  /** Node groups the add-ons' pods need before they can schedule. */
  nodeGroups: aws.eks.NodeGroup[];
  tags: Record<string, string>;
}

const managed = (policy: string) => `arn:aws:iam::aws:policy/${policy}`;

export function createAddons(args: AddonsArgs) {
  const { name, tags } = args;
  const versions = ADDON_VERSIONS[args.kubernetesVersion];
  if (!versions)
    throw new Error(
      `no pinned EKS add-on versions for Kubernetes ${args.kubernetesVersion}: add them to ADDON_VERSIONS in deploy/iac/src/addons.ts`,
    );

  // IRSA roles: the add-ons' controllers get their own narrow roles, not the node's.
  const role = (id: string, serviceAccount: string, policy: string) => {
    const r = new aws.iam.Role(`${name}-${id}`, {
      name: `${name}-${id}`,
      assumeRolePolicy: irsaTrust(args.oidcArn, args.issuerUrl, [serviceAccount]),
      tags,
    });
    new aws.iam.RolePolicyAttachment(`${name}-${id}`, { role: r.name, policyArn: managed(policy) });
    return r;
  };
  const cniRole = role('vpc-cni', 'kube-system:aws-node', 'AmazonEKS_CNI_Policy');
  const ebsRole = role(
    'ebs-csi',
    'kube-system:ebs-csi-controller-sa',
    'service-role/AmazonEBSCSIDriverPolicy',
  );

  const addon = (
    addonName: AddonName,
    extra: Partial<aws.eks.AddonArgs> = {},
    opts: pulumi.CustomResourceOptions = {},
  ) =>
    new aws.eks.Addon(
      `${name}-${addonName}`,
      {
        clusterName: args.cluster.name,
        addonName,
        addonVersion: versions[addonName],
        // EKS owns these objects: a hand edit in the cluster is reverted on update.
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
        tags,
        ...extra,
      },
      opts,
    );

  const vpcCni = addon('vpc-cni', {
    serviceAccountRoleArn: cniRole.arn,
    // The network policy agent runs beside the CNI on every node and enforces
    // NetworkPolicies with eBPF; off by default.
    configurationValues: JSON.stringify({
      enableNetworkPolicy: 'true',
      nodeAgent: { enablePolicyEventLogs: 'true' },
    }),
  });
  const ebsCsi = addon(
    'aws-ebs-csi-driver',
    {
      serviceAccountRoleArn: ebsRole.arn,
      // The node plugin must run on the tainted database nodes too, or the
      // PostgreSQL volumes cannot be mounted there.
      configurationValues: JSON.stringify({ node: { tolerateAllTaints: true } }),
    },
    { dependsOn: args.nodeGroups },
  );
  const metricsServer = addon('metrics-server', {}, { dependsOn: args.nodeGroups });
  const coredns = addon('coredns', {}, { dependsOn: args.nodeGroups });
  const kubeProxy = addon('kube-proxy');
  return { vpcCni, ebsCsi, metricsServer, coredns, kubeProxy, cniRole, ebsRole };
}
