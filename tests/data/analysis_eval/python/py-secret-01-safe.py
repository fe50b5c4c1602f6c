import os

import boto3


def s3_client(region: str = "eu-west-1"):
    session = boto3.session.Session(profile_name=os.environ.get("AWS_PROFILE"))
    return session.client("s3", region_name=region)
