"""Renderers of the endpoints that answer with a file of their own (a download, the evidence package, the CSV
export). Declaring the file's media type lets content negotiation accept a client that asks for it
(`Accept: application/zip`) instead of refusing it with 406. The files themselves are Django responses DRF
does not render: what these renderers render is an error, and errors stay JSON."""

from rest_framework.renderers import JSONRenderer


class FileRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = JSONRenderer.media_type
        return super().render(data, JSONRenderer.media_type, renderer_context)


class OctetStreamRenderer(FileRenderer):
    media_type = "application/octet-stream"
    format = "bin"


class ZipRenderer(FileRenderer):
    media_type = "application/zip"
    format = "zip"


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"
