// IRSA: the trust policy that lets Kubernetes service accounts assume an IAM
// role through the cluster's OIDC provider.
import * as pulumi from '@pulumi/pulumi';

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
