"""A fake of AWS Systems Manager Parameter Store (GetParameter) and Secrets Manager
(GetSecretValue) for scigate's tests: the AWS JSON 1.1 protocol (POST / with X-Amz-Target),
answers and errors shaped like AWS's (ParameterNotFound, ResourceNotFoundException,
InvalidSignatureException, UnrecognizedClientException, MissingAuthenticationTokenException).

Every request's SigV4 signature is recomputed with botocore from the fake's own copy of
the credentials (a wrong secret key is refused like AWS refuses it); the signing service
must match the target (ssm / secretsmanager); when the credentials have a session token,
the request must carry it (X-Amz-Security-Token, signed). Calls are counted by target.

Importable (FakeAws) or runnable: fake_aws.py --port P (prints the credentials it wants).
"""
import argparse
import base64
import datetime
import hmac
import http.server
import json
import os
import re
import threading

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from loopback import LoopbackServer

TARGETS = {"AmazonSSM.GetParameter": "ssm", "secretsmanager.GetSecretValue": "secretsmanager"}


class Refused(Exception):
    def __init__(self, status, aws_type, message):
        super().__init__(message)
        self.status, self.aws_type, self.message = status, aws_type, message


class FakeAws:
    def __init__(self, region="us-west-2", access_key="AKIDFAKECONFIG01", secret_key=None, session_token=None,
                 port=0):
        self.region, self.access_key = region, access_key
        self.secret_key = secret_key or "config-secret-" + os.urandom(8).hex()
        self.session_token = session_token
        self.parameters = {}  # name -> value (the fake keeps SecureStrings decrypted)
        self.secrets = {}  # name or ARN -> str (SecretString) or bytes (SecretBinary)
        self.lock = threading.Lock()
        self.calls = {}  # target -> count, verified or not
        self.refusals = []  # (target, aws_type) of refused requests
        self.http = LoopbackServer(self._handler(), port)
        self.port, self.url = self.http.port, self.http.url

    def close(self):
        self.http.close()

    def env(self, **extra):
        """The environment a scigate process needs to reach this fake with valid credentials."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
               "AWS_REGION": self.region, "AWS_ENDPOINT_URL_SSM": self.url,
               "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.url, "AWS_EC2_METADATA_DISABLED": "true"}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        env.update(extra)
        return env

    def count(self, target):
        with self.lock:
            return self.calls.get(target, 0)

    # ---- checks -------------------------------------------------------------------
    def verify(self, headers, body, service):
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", headers.get("Authorization", ""))
        if not m:
            raise Refused(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
        key, day, region, signed_service, signed, signature = m.groups()
        if key != self.access_key:
            raise Refused(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
        if region != self.region or signed_service != service:
            raise Refused(400, "InvalidSignatureException", f"Credential should be scoped to {self.region}/{service}")
        amz_date = headers.get("X-Amz-Date", "")
        if not amz_date.startswith(day):
            raise Refused(400, "InvalidSignatureException", "X-Amz-Date does not match the credential scope")
        sent = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs(datetime.datetime.now(datetime.timezone.utc) - sent) > datetime.timedelta(minutes=5):
            raise Refused(400, "InvalidSignatureException", "Signature expired")
        names = signed.split(";")
        for required in ("host", "x-amz-date", "x-amz-target"):
            if required not in names:
                raise Refused(400, "InvalidSignatureException", f"{required} is not signed")
        if self.session_token:
            if headers.get("X-Amz-Security-Token") != self.session_token or "x-amz-security-token" not in names:
                raise Refused(400, "UnrecognizedClientException",
                              "The security token included in the request is invalid.")
        hdrs = {n: headers.get(n, "") for n in names}
        req = AWSRequest(method="POST", url=f"http://{headers.get('Host')}/", data=body, headers=hdrs)
        req.context["timestamp"] = amz_date
        creds = Credentials(self.access_key, self.secret_key, self.session_token)
        signer = SigV4Auth(creds, service, self.region)
        expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        if not hmac.compare_digest(expected, signature):
            raise Refused(400, "InvalidSignatureException",
                          "The request signature we calculated does not match the signature you provided.")

    # ---- the two operations ---------------------------------------------------------
    def get_parameter(self, req):
        name = req.get("Name")
        if not isinstance(name, str) or req.get("WithDecryption") is not True:
            raise Refused(400, "ValidationException", "Name and WithDecryption=true are expected")
        with self.lock:
            value = self.parameters.get(name)
        if value is None:
            raise Refused(400, "ParameterNotFound", "")
        return {"Parameter": {"Name": name, "Type": "SecureString", "Value": value, "Version": 1,
                              "ARN": f"arn:aws:ssm:{self.region}:123456789012:parameter{name}"}}

    def get_secret_value(self, req):
        secret_id = req.get("SecretId")
        with self.lock:
            value = self.secrets.get(secret_id)
        if value is None:
            raise Refused(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
        out = {"ARN": secret_id if str(secret_id).startswith("arn:") else
               f"arn:aws:secretsmanager:{self.region}:123456789012:secret:{secret_id}-AbCdEf",
               "Name": secret_id, "VersionId": "v1", "VersionStages": ["AWSCURRENT"]}
        if isinstance(value, bytes):
            out["SecretBinary"] = base64.b64encode(value).decode()
        else:
            out["SecretString"] = value
        return out

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_json(self, status, obj, aws_type=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                if aws_type:
                    self.send_header("x-amzn-ErrorType", aws_type)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                with fake.lock:
                    fake.calls[target] = fake.calls.get(target, 0) + 1
                try:
                    if self.path != "/" or target not in TARGETS:
                        raise Refused(400, "UnknownOperationException", f"unknown operation {target}")
                    if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
                        raise Refused(400, "SerializationException", "wrong Content-Type")
                    fake.verify(self.headers, body, TARGETS[target])
                    req = json.loads(body)
                    answer = fake.get_parameter(req) if target.startswith("AmazonSSM") else fake.get_secret_value(req)
                    self.send_json(200, answer)
                except Refused as e:
                    with fake.lock:
                        fake.refusals.append((target, e.aws_type))
                    self.send_json(e.status, {"__type": e.aws_type, "message": e.message}, e.aws_type)

        return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--session-token")
    args = ap.parse_args()
    fake = FakeAws(port=args.port, session_token=args.session_token)
    print(json.dumps(fake.env()), flush=True)
    fake.http.thread.join()


if __name__ == "__main__":
    main()
