// The AWS SDK's usual environment variables, read the same way by `rwm serve --s3` and `rwm storage`.

/** undefined for an unset or empty variable. */
export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL. */
export const envEndpoint = (env: NodeJS.ProcessEnv): string | undefined => nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);

/** AWS_REGION, else AWS_DEFAULT_REGION. */
export const envRegion = (env: NodeJS.ProcessEnv): string | undefined => nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
