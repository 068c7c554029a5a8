// Image signing (supply chain, seeds 000/004): an asymmetric KMS key that
// Jenkins signs images with (cosign --key awskms:///alias/missionlink-image-signing),
// the Jenkins agents' role that may sign with it, and Kyverno's role that may
// read its public key to verify images at admission
// (deploy/cluster/kyverno/verify-images.yaml). GitHub Actions signs keyless
// and needs none of this. An alias is per account and the same image is
// verified in dev and prod, so only one stack per account makes the key
// (`imageSigning: true`, the prod stack); the other clusters' Kyverno roles
// are made where the key is (add their OIDC providers to the trust there).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { irsaTrust } from './irsa.ts';

export interface SigningArgs {
  name: string;
  oidcArn: pulumi.Input<string>;
  issuerUrl: pulumi.Input<string>;
  /** Namespace of the Jenkins agents (deploy/jenkins/agent-pod.yaml). */
  jenkinsNamespace: string;
  tags: Record<string, string>;
}

export function createSigning(args: SigningArgs) {
  const { name, tags } = args;
  const key = new aws.kms.Key(`${name}-image-signing`, {
    description: 'cosign: MissionLink image signatures (Jenkins)',
    customerMasterKeySpec: 'ECC_NIST_P256',
    keyUsage: 'SIGN_VERIFY',
    deletionWindowInDays: 30,
    tags,
  });
  new aws.kms.Alias(`${name}-image-signing`, {
    name: 'alias/missionlink-image-signing',
    targetKeyId: key.keyId,
  });
  const role = (id: string, serviceAccount: string, actions: string[]) => {
    const r = new aws.iam.Role(`${name}-${id}`, {
      name: `${name}-${id}`,
      assumeRolePolicy: irsaTrust(args.oidcArn, args.issuerUrl, [serviceAccount]),
      tags,
    });
    new aws.iam.RolePolicy(`${name}-${id}`, {
      role: r.id,
      policy: key.arn.apply((arn) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: actions, Resource: arn }],
        }),
      ),
    });
    return r;
  };
  const signer = role('jenkins-signer', `${args.jenkinsNamespace}:jenkins-agent`, [
    'kms:Sign',
    'kms:GetPublicKey',
    'kms:DescribeKey',
  ]);
  const verifier = role('kyverno', 'kyverno:kyverno-admission-controller', [
    'kms:GetPublicKey',
    'kms:DescribeKey',
  ]);
  return { key, signer, verifier };
}
