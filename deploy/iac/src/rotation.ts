// Secret rotation (seed 003, issue 24): AWS Secrets Manager rotates the
// database passwords and the payment provider's webhook secret on a schedule,
// each kind with its own rotation function (a Lambda you provide: rotating a
// CloudNativePG password and a provider's secret are different jobs). The
// rest of the chain is in the manifests: External Secrets re-reads the value
// within the hour (deploy/base/secrets), CloudNativePG sets a database owner's
// new password from the Secret it bootstraps from (cnpg.io/reload), and
// Reloader rolls every Deployment that reads the Secret
// (reloader.stakater.com/auto). test/deploy/iac.test.ts checks that chain.
//
// The secrets themselves are made by hand, values and all (deploy/README.md,
// "Secrets"), so rotation is turned on once they exist: set
// missionlink:secretRotation and run `pulumi up` again. The audit key is never
// rotated (deploy/README.md "The audit key"); nothing here can name it.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** One kind of secret: the function that rotates it and when. */
export interface RotationSchedule {
  /** ARN of the rotation Lambda (same account and region). */
  lambdaArn: string;
  /** Secrets Manager schedule (cron() or rate()); the kind's default otherwise. */
  schedule?: string;
}

/** Config `missionlink:secretRotation`: which kinds rotate (a kind left out does not). */
export interface SecretRotationConfig {
  /** identity-db and funding-db: the CloudNativePG owners' passwords. */
  database?: RotationSchedule;
  /** payment-webhook-secret: the payment provider's webhook signing secret. */
  provider?: RotationSchedule;
}

/** The secrets (under missionlink/<environment>/) each kind rotates, and its default schedule. */
export const ROTATED = {
  // Monthly, on the 1st at 18:00 UTC (03:00 KST), within a 2-hour window.
  database: { secrets: ['identity-db', 'funding-db'], schedule: 'cron(0 18 1 * ? *)' },
  // Quarterly: the provider's side must change with it.
  provider: { secrets: ['payment-webhook-secret'], schedule: 'cron(0 18 1 1,4,7,10 ? *)' },
} as const;

export interface RotationArgs {
  name: string;
  environment: string;
  region: string;
  accountId: pulumi.Input<string>;
  rotation: SecretRotationConfig;
}

export function createSecretRotation(args: RotationArgs) {
  const rotations: aws.secretsmanager.SecretRotation[] = [];
  for (const kind of Object.keys(ROTATED) as (keyof typeof ROTATED)[]) {
    const chosen = args.rotation[kind];
    if (!chosen) continue;
    if (!/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w-]+)?$/.test(chosen.lambdaArn))
      throw new Error(
        `secretRotation.${kind}.lambdaArn must be a Lambda function ARN, got "${chosen.lambdaArn}"`,
      );
    for (const secret of ROTATED[kind].secrets) {
      const secretName = `missionlink/${args.environment}/${secret}`;
      // Secrets Manager may invoke the function for this secret only (its ARN
      // ends in "-" and six random characters).
      const permission = new aws.lambda.Permission(`${args.name}-rotate-${secret}`, {
        function: chosen.lambdaArn,
        action: 'lambda:InvokeFunction',
        principal: 'secretsmanager.amazonaws.com',
        sourceAccount: args.accountId,
        sourceArn: pulumi.interpolate`arn:aws:secretsmanager:${args.region}:${args.accountId}:secret:${secretName}-??????`,
      });
      rotations.push(
        new aws.secretsmanager.SecretRotation(
          `${args.name}-${secret}`,
          {
            secretId: secretName,
            rotationLambdaArn: chosen.lambdaArn,
            rotationRules: {
              scheduleExpression: chosen.schedule ?? ROTATED[kind].schedule,
              duration: '2h',
            },
            // The first rotation waits for the schedule (Secrets Manager tests the function now).
            rotateImmediately: false,
          },
          { dependsOn: [permission] },
        ),
      );
    }
  }
  return { rotations };
}
