#!/usr/bin/env python3
"""Writes the request corpus: valid/*.http and invalid/*.http (raw bytes, CRLF as sent)
with a sibling .expect of `key value` lines (values use \\r \\n \\xHH escapes).

valid keys:   method target path query version framing(none|length|chunked) content_length
              keep_alive expect_continue header("Name: value", in order, all of them)
              body (decoded body after the head) rest (bytes left for the next request)
invalid keys: status (the head parser's, or the chunked decoder's when the head is fine)
both:         option (permit_unconventional_method | permit_obsolete_folding |
              strip_header_spaces | casefold_method | header_map_refuse |
              header_map_dangerous) and limit (request_line=N | fields=N | field_size=N | body=N)

Run it from anywhere after editing a case; the generated files are committed."""
import os
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
H = b"Host: example.com\r\n"


def esc(b: bytes) -> str:
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


VALID = []
INVALID = []


def valid(name, raw, **exp):
    VALID.append((name, raw, exp))


def invalid(name, raw, status, **exp):
    exp["status"] = status
    INVALID.append((name, raw, exp))


def get(extra=b"", target=b"/", version=b"1.1", method=b"GET", host=H):
    return method + b" " + target + b" HTTP/" + version + b"\r\n" + host + extra + b"\r\n"


# ---- valid --------------------------------------------------------------------------
valid("001_simple_get", get(), method="GET", target="/", path="/", query="", version="1",
      framing="none", keep_alive="1", header=["Host: example.com"])
valid("002_query", get(target=b"/a/b?x=1&y=%20"), path="/a/b", query="x=1&y=%20",
      target="/a/b?x=1&y=%20")
valid("003_fragment_dropped", get(target=b"/p?q=1#frag"), path="/p", query="q=1")
valid("004_http10_no_host", b"GET / HTTP/1.0\r\n\r\n", version="0", keep_alive="0", header=[])
valid("005_http10_keep_alive", b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
      keep_alive="1")
valid("006_http11_close", get(b"Connection: keep-alive, CLOSE\r\n"), keep_alive="0")
valid("007_content_length", get(b"Content-Length: 5\r\n", method=b"POST") + b"hello",
      method="POST", framing="length", content_length="5", body="hello", rest="0")
valid("008_chunked", get(b"Transfer-Encoding: chunked\r\n", method=b"POST")
      + b"5\r\nhello\r\n6;name=val;q=\"a \\\" b\"\r\n world\r\n0\r\n\r\n",
      framing="chunked", body="hello world", rest="0")
valid("009_chunked_trailer_pipelined", get(b"Transfer-Encoding: chunked\r\n", method=b"POST")
      + b"A\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\nGET / HTTP/1.1\r\n",
      framing="chunked", body="0123456789", rest="16")
valid("010_gzip_then_chunked", get(b"Transfer-Encoding: gzip, chunked\r\n", method=b"POST")
      + b"0\r\n\r\n", framing="chunked", body="", rest="0")
valid("011_te_two_fields", get(b"Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n",
      method=b"POST") + b"0\r\n\r\n", framing="chunked")
valid("012_expect_continue", get(b"Expect: 100-Continue\r\nContent-Length: 0\r\n", method=b"PUT"),
      expect_continue="1", framing="length", content_length="0")
valid("013_expect_http10_ignored", b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
      expect_continue="0")
valid("014_other_expect_ignored", get(b"Expect: something-else\r\n"), expect_continue="0")
valid("015_underscore_dropped", get(b"X_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 1.2.3.4\r\n"),
      header=["Host: example.com", "X-Forwarded-For: 1.2.3.4"])
valid("016_underscore_cl_not_framing", get(b"Content_Length: 10\r\n"), framing="none",
      header=["Host: example.com"])
valid("017_obs_text_value", get(b"X-Name: caf\xe9 \xff\r\n"),
      header=["Host: example.com", "X-Name: caf\xe9 \xff".encode("latin-1").decode("latin-1")])
valid("018_ows_trimmed", get(b"X-A:   padded \t \r\nX-Empty:\r\nX-Tab:\tv\r\n"),
      header=["Host: example.com", "X-A: padded", "X-Empty: ", "X-Tab: v"])
valid("019_absolute_form", get(target=b"http://example.com/p/q?x=y"), path="/p/q", query="x=y",
      target="http://example.com/p/q?x=y")
valid("020_absolute_form_no_path", get(target=b"HTTPS://example.com:8443?x"), path="/", query="x")
valid("021_options_asterisk", get(method=b"OPTIONS", target=b"*"), method="OPTIONS", path="*")
valid("023_leading_empty_lines", b"\r\n\r\n" + get(), method="GET", path="/")
valid("024_registered_methods", get(method=b"PROPFIND"), method="PROPFIND")
valid("025_unconventional_permitted", get(method=b"-blargh"), method="-blargh",
      option=["permit_unconventional_method"])
valid("026_obs_fold_permitted", get(b"X-Long: one\r\n  two\r\n\tthree\r\n"),
      header=["Host: example.com", "X-Long: one two three"], option=["permit_obsolete_folding"])
valid("027_strip_header_spaces", get(b"X-Spaced \t: v\r\n"),
      header=["Host: example.com", "X-Spaced: v"], option=["strip_header_spaces"])
# "GET " + target + " HTTP/1.1" is 13 bytes plus the target; the limit counts no CRLF.
valid("028_request_line_at_limit", get(target=b"/" + b"a" * (8190 - 14)), path="/" + "a" * 8176)
# gunicorn counts a field line with its CRLF: 8188 + 2 = 8190.
valid("029_field_at_limit", get(b"X-Big: " + b"b" * (8188 - 7) + b"\r\n"))
valid("030_fields_at_limit", get(b"".join(b"X-%d: v\r\n" % i for i in range(99))))
valid("031_cl_zero_padded", get(b"Content-Length: 0005\r\n", method=b"POST") + b"abcde",
      content_length="5", body="abcde")
valid("032_cl_max", get(b"Content-Length: 1073741824\r\n", method=b"POST"),
      content_length="1073741824")
valid("033_pipelined_rest", get() + get(target=b"/2"), path="/", rest="38")
valid("034_case_insensitive_names", get(b"content-LENGTH: 2\r\n", method=b"POST") + b"ok",
      framing="length", body="ok")
valid("035_tokens_in_names", get(b"X!#$%&'*+-.^`|~0: 1\r\n"))
valid("036_chunk_ext_bws", get(b"Transfer-Encoding: chunked\r\n", method=b"POST")
      + b"3 ; a = b\r\nabc\r\n0\r\n\r\n", body="abc")
valid("037_big_chunk_hex_upper", get(b"Transfer-Encoding: chunked\r\n", method=b"POST")
      + b"0000F\r\n" + b"z" * 15 + b"\r\n0\r\n\r\n", body="z" * 15)
valid("038_sub_delims_target", get(target=b"/a;b,c=d!$&'()*+:@~_.-/[x]?k=/?:@"),
      path="/a;b,c=d!$&'()*+:@~_.-/[x]", query="k=/?:@")
valid("039_connection_list", b"GET / HTTP/1.0\r\nConnection: Upgrade, keep-alive\r\n\r\n",
      keep_alive="1")
valid("040_connection_close_wins", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
      keep_alive="0")
valid("041_limit_request_line_custom", get(target=b"/abc"), limit=["request_line=20"])
valid("042_empty_query", get(target=b"/p?"), path="/p", query="")
valid("043_double_slash_path", get(target=b"//evil.com/x"), path="//evil.com/x")
# Host = uri-host [":" port] (RFC 9112 §3.2, RFC 3986 §3.2.2).
valid("044_host_ipv4_port", get(host=b"Host: 127.0.0.1:8080\r\n"), header=["Host: 127.0.0.1:8080"])
valid("045_host_ipv6", get(host=b"Host: [2001:db8::1]\r\n"), header=["Host: [2001:db8::1]"])
valid("046_host_ipv6_port", get(host=b"Host: [::1]:8443\r\n"), header=["Host: [::1]:8443"])
valid("047_host_empty_port", get(host=b"Host: localhost:\r\n"), header=["Host: localhost:"])
valid("048_host_name_port_trailing_dot", get(host=b"Host: Example.COM.:80\r\n"))
valid("049_casefold_method", get(method=b"get"), method="GET",
      option=["permit_unconventional_method", "casefold_method"])
valid("050_header_map_dangerous", get(b"X_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 1.2.3.4\r\n"),
      header=["Host: example.com", "X_Forwarded_For: 6.6.6.6", "X-Forwarded-For: 1.2.3.4"],
      option=["header_map_dangerous"])
# "Host: example.com" is 17 + 2 bytes: at the limit too.
valid("051_field_size_custom_at_limit", get(b"X-A: 012345678901\r\n"), limit=["field_size=19"])
valid("052_obs_fold_then_body", get(b"X-Long: one\r\n two\r\nContent-Length: 5\r\n", method=b"POST")
      + b"hello", header=["Host: example.com", "X-Long: one two", "Content-Length: 5"],
      body="hello", rest="0", option=["permit_obsolete_folding"])
valid("053_content_type_once", get(b"Content-Type: text/plain\r\nContent-Length: 0\r\n", method=b"POST"),
      header=["Host: example.com", "Content-Type: text/plain", "Content-Length: 0"])

# ---- invalid: request line ----------------------------------------------------------------
invalid("101_lowercase_method", get(method=b"get"), 400)
invalid("102_method_too_short", get(method=b"GE"), 400)
invalid("103_method_too_long", get(method=b"A" * 21), 400)
invalid("104_method_hash", get(method=b"GE#T"), 400)
invalid("105_method_non_token", get(method=b"GE(T"), 400, option=["permit_unconventional_method"])
invalid("106_double_space", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400)
invalid("107_trailing_space", b"GET / HTTP/1.1 \r\n" + H + b"\r\n", 400)
invalid("108_tab_separator", b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", 400)
invalid("109_leading_space", b" GET / HTTP/1.1\r\n" + H + b"\r\n", 400)
invalid("110_http09", b"GET /\r\n\r\n", 400)
invalid("111_http20", get(version=b"2.0"), 505)
invalid("112_http12", get(version=b"1.2"), 505)
invalid("113_http09_version", get(version=b"0.9"), 505)
invalid("114_version_garbage", get(version=b"1.1x"), 400)
invalid("115_version_lowercase", b"GET / http/1.1\r\n" + H + b"\r\n", 400)
invalid("116_version_two_digits", get(version=b"1.10"), 400)
invalid("117_target_space_in_url", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400)
invalid("118_target_ctl", get(target=b"/a\x01b"), 400)
invalid("119_target_nul", get(target=b"/a\x00b"), 400)
invalid("120_target_non_ascii", get(target=b"/caf\xc3\xa9"), 400)
invalid("121_target_unsafe_chars", get(target=b"/a<b>"), 400)
invalid("122_target_backslash", get(target=b"/a\\b"), 400)
invalid("123_asterisk_not_options", get(target=b"*"), 400)
invalid("124_authority_not_connect", get(target=b"example.com:443"), 400)
invalid("125_connect_origin_form", get(method=b"CONNECT", target=b"/x"), 400)
invalid("126_relative_target", get(target=b"a/b"), 400)
invalid("127_absolute_bad_scheme", get(target=b"ftp://example.com/"), 400)
invalid("128_absolute_no_authority", get(target=b"http:///p"), 400)
invalid("129_request_line_too_long", get(target=b"/" + b"a" * (8190 - 13)), 414)
invalid("130_request_line_no_crlf_too_long", b"GET /" + b"a" * 9000, 414)
invalid("131_too_many_empty_lines", b"\r\n" * 5 + get(), 400)
invalid("132_bare_lf_request_line", b"GET / HTTP/1.1\n" + H + b"\r\n", 400)
invalid("133_bare_cr_request_line", b"GET / HTTP/1.1\rX\r\n" + H + b"\r\n", 400)
invalid("134_leading_bare_lf", b"\nGET / HTTP/1.1\r\n" + H + b"\r\n", 400)
invalid("135_custom_line_limit", get(target=b"/abcdefgh"), 414, limit=["request_line=20"])
invalid("136_empty_target", b"GET  HTTP/1.1\r\n" + H + b"\r\n", 400)
# RFC 9110 §9.3.6 / §15.6.2: no tunnel from a WSGI server: 501, the app never sees it.
invalid("137_connect_not_supported", get(method=b"CONNECT", target=b"example.com:443",
        host=b"Host: example.com:443\r\n"), 501)
# gunicorn 22+: casefold_http_method upper-cases only what validation let through.
invalid("138_casefold_without_permit", get(method=b"get"), 400, option=["casefold_method"])

# ---- invalid: fields ----------------------------------------------------------------------
invalid("201_bare_lf_field", get(b"X-A: 1\nX-B: 2\r\n"), 400)
invalid("202_bare_cr_field", get(b"X-A: 1\rX-B: 2\r\n"), 400)
invalid("203_bare_lf_end", b"GET / HTTP/1.1\r\n" + H + b"\n", 400)
invalid("204_obs_fold", get(b"X-A: one\r\n two\r\n"), 400)
invalid("205_space_before_colon", get(b"X-A : 1\r\n"), 400)
invalid("206_tab_before_colon", get(b"X-A\t: 1\r\n"), 400)
invalid("207_space_before_first_field", b"GET / HTTP/1.1\r\n " + H + b"\r\n", 400)
invalid("208_nul_in_value", get(b"X-A: a\x00b\r\n"), 400)
invalid("209_ctl_in_value", get(b"X-A: a\x07b\r\n"), 400)
invalid("210_del_in_value", get(b"X-A: a\x7fb\r\n"), 400)
invalid("211_non_token_name", get(b"X(A): 1\r\n"), 400)
invalid("212_missing_colon", get(b"X-A 1\r\n"), 400)
invalid("213_empty_name", get(b": 1\r\n"), 400)
invalid("214_nul_in_name", get(b"X\x00A: 1\r\n"), 400)
invalid("215_non_ascii_name", get(b"X-\xe9: 1\r\n"), 400)
invalid("216_field_too_long", get(b"X-Big: " + b"b" * (8189 - 7) + b"\r\n"), 431)  # 8189 + CRLF
invalid("217_too_many_fields", get(b"".join(b"X-%d: v\r\n" % i for i in range(100))), 431)
invalid("218_underscore_counts_for_limit", get(b"".join(b"X_%d: v\r\n" % i for i in range(100))), 431)
invalid("219_field_no_crlf_too_long", b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 9000, 431)
invalid("220_custom_fields_limit", get(b"X-A: 1\r\nX-B: 2\r\n"), 431, limit=["fields=2"])
invalid("221_space_before_colon_strip_off_tab_in_name", get(b"X A: 1\r\n"), 400,
        option=["strip_header_spaces"])
invalid("222_fold_first_field", b"GET / HTTP/1.1\r\n\tX-A: 1\r\n" + H + b"\r\n", 400,
        option=["permit_obsolete_folding"])
invalid("223_vertical_tab_in_value", get(b"X-A: a\x0bb\r\n"), 400)
invalid("224_header_map_refuse", get(b"X_Forwarded_For: 6.6.6.6\r\n"), 400, option=["header_map_refuse"])
invalid("225_field_size_counts_crlf", get(b"X-A: 0123456789012\r\n"), 431, limit=["field_size=19"])
invalid("226_folded_field_size_counts_crlfs", get(b"X-A: one\r\n two\r\n 34\r\n"), 431,
        option=["permit_obsolete_folding"], limit=["field_size=20"])
invalid("227_dropped_field_still_counts_size", get(b"X_A: one\r\n two\r\n 34\r\n"), 431,
        option=["permit_obsolete_folding"], limit=["field_size=20"])

# ---- invalid: host and framing ------------------------------------------------------------
invalid("301_http11_no_host", b"GET / HTTP/1.1\r\n\r\n", 400)
invalid("302_two_hosts", get(b"Host: other.com\r\n"), 400)
invalid("303_http10_two_hosts", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400)
# RFC 9112 §3.2: a Host with an invalid value MUST get 400. Empty: every target we serve is
# an http(s) URI, whose authority must not be empty (RFC 9110 §4.2.1).
invalid("330_host_empty", get(host=b"Host:\r\n"), 400)
invalid("331_host_blank", get(host=b"Host:   \r\n"), 400)
invalid("332_host_userinfo", get(host=b"Host: user@example.com\r\n"), 400)
invalid("333_host_userinfo_password", get(host=b"Host: user:pw@example.com\r\n"), 400)
invalid("334_host_path", get(host=b"Host: example.com/x\r\n"), 400)
invalid("335_host_comma_list", get(host=b"Host: a.example, b.example\r\n"), 400)
invalid("336_host_comma_no_space", get(host=b"Host: a.example,b.example\r\n"), 400)
invalid("337_host_port_not_digits", get(host=b"Host: example.com:80x\r\n"), 400)
invalid("338_host_port_too_big", get(host=b"Host: example.com:65536\r\n"), 400)
invalid("339_host_ipv6_unbracketed", get(host=b"Host: ::1\r\n"), 400)
invalid("340_host_ipv6_unclosed", get(host=b"Host: [::1\r\n"), 400)
invalid("341_host_ipv6_bad", get(host=b"Host: [::g]\r\n"), 400)
invalid("342_host_space_inside", get(host=b"Host: exa mple.com\r\n"), 400)
invalid("343_host_port_only", get(host=b"Host: :80\r\n"), 400)
invalid("344_host_absolute_uri", get(host=b"Host: http://example.com\r\n"), 400)
invalid("345_http10_host_userinfo", b"GET / HTTP/1.0\r\nHost: u@h\r\n\r\n", 400)
invalid("346_host_bad_pct", get(host=b"Host: %zzexample\r\n"), 400)
# RFC 9110 §8.3: Content-Type is a singleton; gunicorn 26.1 refuses a repeat too.
invalid("347_content_type_repeated",
        get(b"Content-Type: text/plain\r\nContent-Type: application/json\r\n", method=b"POST"), 400)
invalid("348_content_type_repeated_equal",
        get(b"Content-Type: text/plain\r\ncontent-type: text/plain\r\n", method=b"POST"), 400)
invalid("304_cl_and_te", get(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", method=b"POST"), 400)
invalid("305_te_and_cl", get(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", method=b"POST"), 400)
invalid("306_cl_repeated_equal", get(b"Content-Length: 5\r\nContent-Length: 5\r\n", method=b"POST"), 400)
invalid("307_cl_list", get(b"Content-Length: 5, 5\r\n", method=b"POST"), 400)
invalid("308_cl_plus", get(b"Content-Length: +5\r\n", method=b"POST"), 400)
invalid("309_cl_minus", get(b"Content-Length: -1\r\n", method=b"POST"), 400)
invalid("310_cl_hex", get(b"Content-Length: 0x5\r\n", method=b"POST"), 400)
invalid("311_cl_underscore_digits", get(b"Content-Length: 1_0\r\n", method=b"POST"), 400)
invalid("312_cl_empty", get(b"Content-Length:\r\n", method=b"POST"), 400)
invalid("313_cl_inner_space", get(b"Content-Length: 1 0\r\n", method=b"POST"), 400)
invalid("314_cl_overflow", get(b"Content-Length: 18446744073709551616\r\n", method=b"POST"), 400)
invalid("315_cl_over_body_limit", get(b"Content-Length: 1073741825\r\n", method=b"POST"), 413)
invalid("316_cl_custom_body_limit", get(b"Content-Length: 11\r\n", method=b"POST"), 413, limit=["body=10"])
invalid("317_te_http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400)
invalid("318_te_not_last_chunked", get(b"Transfer-Encoding: chunked, gzip\r\n", method=b"POST"), 400)
invalid("319_te_chunked_twice", get(b"Transfer-Encoding: chunked, chunked\r\n", method=b"POST"), 400)
invalid("320_te_chunked_twice_fields", get(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        method=b"POST"), 400)
invalid("321_te_gzip_only", get(b"Transfer-Encoding: gzip\r\n", method=b"POST"), 400)
invalid("322_te_unknown", get(b"Transfer-Encoding: bogus, chunked\r\n", method=b"POST"), 501)
invalid("323_te_identity", get(b"Transfer-Encoding: identity\r\n", method=b"POST"), 501)
invalid("324_te_non_ascii_padding", get(b"Transfer-Encoding: \xa0chunked\r\n", method=b"POST"), 400)
invalid("325_te_non_ascii_suffix", get(b"Transfer-Encoding: chunked\xc2\xa0\r\n", method=b"POST"), 400)
invalid("326_te_empty", get(b"Transfer-Encoding:\r\n", method=b"POST"), 400)
invalid("327_te_params", get(b"Transfer-Encoding: chunked;q=1\r\n", method=b"POST"), 400)
invalid("328_te_vertical_tab", get(b"Transfer-Encoding: \x0bchunked\r\n", method=b"POST"), 400)
invalid("329_te_empty_element", get(b"Transfer-Encoding: gzip,,chunked\r\n", method=b"POST"), 400)

# ---- invalid: chunked bodies (head fine; the decoder's status) --------------------------------
TE = get(b"Transfer-Encoding: chunked\r\n", method=b"POST")
invalid("401_chunk_0x", TE + b"0x5\r\nhello\r\n0\r\n\r\n", 400)
invalid("402_chunk_sign", TE + b"+5\r\nhello\r\n0\r\n\r\n", 400)
invalid("403_chunk_leading_space", TE + b" 5\r\nhello\r\n0\r\n\r\n", 400)
invalid("404_chunk_space_no_ext", TE + b"5 \r\nhello\r\n0\r\n\r\n", 400)
invalid("405_chunk_overflow", TE + b"10000000000000000\r\nhello\r\n0\r\n\r\n", 400)
invalid("406_chunk_bare_lf_size", TE + b"5\nhello\r\n0\r\n\r\n", 400)
invalid("407_chunk_bare_cr_size", TE + b"5\r\rhello\r\n0\r\n\r\n", 400)
invalid("408_chunk_missing_crlf_after_data", TE + b"5\r\nhelloX\r\n0\r\n\r\n", 400)
invalid("409_chunk_lf_only_after_data", TE + b"5\r\nhello\n0\r\n\r\n", 400)
invalid("410_chunk_ext_too_long", TE + b"5;a=" + b"x" * 5000 + b"\r\nhello\r\n0\r\n\r\n", 400)
invalid("411_chunk_ext_bad", TE + b"5;=x\r\nhello\r\n0\r\n\r\n", 400)
invalid("412_trailer_too_big", TE + b"0\r\n" + b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 100) for i in range(100)) + b"\r\n", 431)
invalid("413_trailer_bad_field", TE + b"0\r\nX T: 1\r\n\r\n", 400)
invalid("414_trailer_bare_lf", TE + b"0\r\nX-T: 1\n\r\n", 400)
invalid("415_chunked_over_body_limit", TE + b"b\r\nhello world\r\n0\r\n\r\n", 413, limit=["body=10"])
invalid("416_chunk_empty_size", TE + b"\r\nhello\r\n0\r\n\r\n", 400)
invalid("417_trailer_obs_fold", TE + b"0\r\nX-T: 1\r\n  more\r\n\r\n", 400)
invalid("418_chunk_size_underscore", TE + b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n", 400)

# ---- smuggling CVEs ------------------------------------------------------------------------
# gunicorn CVE-2024-1135: TE validated loosely (e.g. "chunked" plus other codings / repeated
# headers), letting a front end and gunicorn disagree on where the body ends.
invalid("501_cve_2024_1135_te_chunked_then_identity",
        get(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", method=b"POST"), 400)
invalid("502_cve_2024_1135_cl_te_smuggle",
        get(b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", method=b"POST") + b"0\r\n\r\nG", 400)
# gunicorn CVE-2024-6827: TE not ending in chunked fell back to Content-Length (TE.CL).
invalid("503_cve_2024_6827_te_xchunked",
        get(b"Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n", method=b"POST"), 400)
invalid("504_cve_2024_6827_te_chunked_suffix",
        get(b"Transfer-Encoding: chunked, xyz\r\n", method=b"POST"), 400)
# waitress CVE-2019-16785: bare LF accepted as a line terminator.
invalid("505_cve_2019_16785_lf_line_endings",
        b"POST / HTTP/1.1\nHost: example.com\nContent-Length: 5\n\nhello", 400)
invalid("506_cve_2019_16785_lf_in_chunk",
        TE + b"5\r\nhello\r\n0\n\r\n", 400)
# waitress CVE-2022-24761: "0x" prefixed / signed chunk sizes and Content-Length.
invalid("507_cve_2022_24761_chunk_0x", TE + b"0x3\r\nabc\r\n0\r\n\r\n", 400)
invalid("508_cve_2022_24761_cl_plus", get(b"Content-Length: +3\r\n", method=b"POST") + b"abc", 400)
# waitress CVE-2024-49768: a request pipelined after one with "Connection: close" or an error;
# the parser must stop at the first bad request (tested in the pipeline test), and a
# chunked body whose CRLF is missing must not be resynchronised.
invalid("509_cve_2024_49768_chunk_no_crlf", TE + b"3\r\nabc0\r\n\r\n", 400)
invalid("510_te_obs_fold_smuggle",
        get(b"Transfer-Encoding:\r\n chunked\r\n", method=b"POST"), 400)
invalid("511_te_space_before_colon",
        get(b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n", method=b"POST"), 400)


def write(kind, cases):
    d = HERE / kind
    d.mkdir(exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for name, raw, exp in cases:
        (d / (name + ".http")).write_bytes(raw)
        lines = []
        for k, v in exp.items():
            for item in (v if isinstance(v, list) else [v]):
                s = item if isinstance(item, str) else str(item)
                lines.append(k + " " + esc(s.encode("latin-1")))
        if "header" in exp:
            lines.append("headers %d" % len(exp["header"]))
        (d / (name + ".expect")).write_text("\n".join(lines) + "\n")


write("valid", VALID)
write("invalid", INVALID)
print(len(VALID), "valid,", len(INVALID), "invalid")
