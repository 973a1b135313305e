"""The config from AWS, through the real binary: `--config ssm:/name` (SSM GetParameter),
`aws-secretsmanager:ARN#key` secrets, the seed's drop-in (collections-only parameter plus
the seed's Lambda environment), and the failures an operator must be able to read. The
fake of SSM and Secrets Manager (tests/fakes/fake_aws.py) checks every signature with
botocore and wants the session token."""
import os
import subprocess
import sys
import unittest

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from fake_aws import FakeAws  # noqa: E402
from harness import BIN, SECRET, Gateway, auth  # noqa: E402

JWT_ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:scigate/jwt-AbCdEf"
SEED_ENV = ("MWAA_ENV_NAME", "S3_BUCKET_STAGING", "JWT_SECRET_KEY_ARN", "REGION")
SEED_COLLECTIONS = """collections:
  nebraska_images:
    description: Tissue images
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas]}
  other_images:
    bucket: edrn-bucket
    prefix: other_images/
"""


def clean_env(**extra):
    """The test's environment without any AWS or scigate settings of the machine's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "SCIGATE_")) and k not in SEED_ENV}
    env.update(extra)
    return env


class AwsConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAws(session_token="session-" + os.urandom(6).hex())
        # The JWT secret is one key of a JSON secret, the way several values share one secret.
        cls.fake.secrets[JWT_ARN] = '{"jwt": "%s", "other": "unused-value"}' % SECRET
        cls.gw = Gateway()
        with open(cls.gw.config) as f:
            text = f.read()
        assert 'secret: "env:SCIGATE_IT_SECRET"' in text
        cls.fake.parameters["/scigate/it/config"] = text.replace(
            'secret: "env:SCIGATE_IT_SECRET"', f'secret: "aws-secretsmanager:{JWT_ARN}#jwt"')

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.fake.close()

    def scigate(self, *args, env=None, cwd=None):
        r = subprocess.run([BIN, *args], env=env if env is not None else clean_env(**self.fake.env()),
                           cwd=cwd or self.gw.dir, capture_output=True, text=True, timeout=60)
        # Whatever happened, no secret value is ever printed.
        for secret in (SECRET, "unused-value", self.fake.secret_key, self.fake.session_token):
            self.assertNotIn(secret, r.stdout + r.stderr)
        return r

    def test_check_config_from_ssm(self):
        before = (self.fake.count("AmazonSSM.GetParameter"), self.fake.count("secretsmanager.GetSecretValue"))
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ssm:/scigate/it/config: OK (local engine, 2 collections", r.stdout)
        self.assertEqual(self.fake.count("AmazonSSM.GetParameter"), before[0] + 1)
        self.assertEqual(self.fake.count("secretsmanager.GetSecretValue"), before[1] + 1)

    def test_serve_from_ssm_verifies_tokens_with_the_secret(self):
        self.gw.stdout = open(self.gw.stdout_path, "ab")
        self.gw.stderr = open(self.gw.stderr_path, "ab")
        # SCIGATE_CONFIG names the parameter; relative paths (./runs, ./scigate.db) are the
        # current folder's.
        self.gw.proc = subprocess.Popen([BIN, "serve"], env=clean_env(SCIGATE_CONFIG="ssm:/scigate/it/config",
                                                                     **self.fake.env()),
                                        cwd=self.gw.dir, stdout=self.gw.stdout, stderr=self.gw.stderr)
        try:
            self.gw.wait_ready()
            r = requests.get(self.gw.base + "/workflows", headers=auth("thomas"), timeout=10)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertIn("nebraska", r.text)
            wrong = requests.get(self.gw.base + "/workflows", headers=auth("thomas", secret="not-the-secret"),
                                 timeout=10)
            self.assertEqual(wrong.status_code, 401)
        finally:
            self.gw.stop()
        self.assertTrue(os.path.exists(os.path.join(self.gw.dir, "scigate.db")))
        self.assertNotIn(SECRET, self.gw.logs())

    def test_missing_parameter_is_named(self):
        r = self.scigate("check-config", "--config", "ssm:/scigate/nowhere")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SSM parameter /scigate/nowhere: not found", r.stderr)
        self.assertIn("ParameterNotFound", r.stderr)

    def test_missing_secret_is_named(self):
        self.fake.parameters["/scigate/it/missing-secret"] = self.fake.parameters["/scigate/it/config"].replace(
            JWT_ARN + "#jwt", "scigate/nothing-here")
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/missing-secret")
        self.assertEqual(r.returncode, 1)
        self.assertIn("auth.jwt.secret: Secrets Manager secret scigate/nothing-here: not found", r.stderr)
        self.assertIn("ResourceNotFoundException", r.stderr)

    def test_missing_json_key_is_named(self):
        self.fake.parameters["/scigate/it/missing-key"] = self.fake.parameters["/scigate/it/config"].replace(
            JWT_ARN + "#jwt", JWT_ARN + "#nokey")
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/missing-key")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"secret '{JWT_ARN}' has no key 'nokey'", r.stderr)

    def test_wrong_secret_key_is_refused_by_the_signature_check(self):
        before = len(self.fake.refusals)
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/config",
                         env=clean_env(**self.fake.env(AWS_SECRET_ACCESS_KEY="wrong-" + os.urandom(4).hex())))
        self.assertEqual(r.returncode, 1)
        self.assertIn("SSM parameter /scigate/it/config", r.stderr)
        self.assertIn("SSM parameter /scigate/it/config: refused by AWS (HTTP 400 InvalidSignatureException", r.stderr)
        self.assertEqual(self.fake.refusals[before:], [("AmazonSSM.GetParameter", "InvalidSignatureException")])

    def test_session_token_is_required(self):
        env = clean_env(**self.fake.env())
        del env["AWS_SESSION_TOKEN"]
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/config", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("UnrecognizedClientException", r.stderr)

    def test_unreachable_ssm(self):
        env = clean_env(**self.fake.env(AWS_ENDPOINT_URL_SSM="http://127.0.0.1:1"))
        r = self.scigate("check-config", "--config", "ssm:/scigate/it/config", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("SSM unreachable", r.stderr)

    def seed_env(self, **extra):
        self.fake.secrets["arn:aws:secretsmanager:us-west-2:123456789012:secret:jwtSecret-Seed"] = SECRET
        self.fake.parameters["/labcas/workflow/api/config"] = SEED_COLLECTIONS
        env = clean_env(**self.fake.env())
        del env["AWS_REGION"]  # the seed's functions only have REGION
        env.update(MWAA_ENV_NAME="labcas-env", S3_BUCKET_STAGING="labcas-staging",
                   JWT_SECRET_KEY_ARN="arn:aws:secretsmanager:us-west-2:123456789012:secret:jwtSecret-Seed",
                   REGION="us-west-2")
        env.update(extra)
        return env

    def test_seed_mode_from_the_environment(self):
        r = self.scigate("check-config", env=self.seed_env())  # no --config, no SCIGATE_CONFIG
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ssm:/labcas/workflow/api/config: OK (airflow engine, 2 collections, 0 workflows, 1 providers)",
                      r.stdout)

    def test_seed_mode_names_missing_variables(self):
        env = self.seed_env()
        del env["S3_BUCKET_STAGING"]
        del env["JWT_SECRET_KEY_ARN"]
        r = self.scigate("check-config", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not set: S3_BUCKET_STAGING, JWT_SECRET_KEY_ARN", r.stderr)

    def test_file_configs_need_no_aws(self):
        r = self.scigate("check-config", "--config", self.gw.config,
                         env=clean_env(SCIGATE_IT_SECRET=SECRET))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(": OK (local engine", r.stdout)


if __name__ == "__main__":
    unittest.main()
