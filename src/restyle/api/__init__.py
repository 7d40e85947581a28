"""The wire edge: the only package that knows Tencent JSON, headers and HTTP."""
