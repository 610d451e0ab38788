#!/usr/bin/perl
# build-mmdb.pl -- build a MaxMind DB file from CSV IP ranges.
#
# Usage:
#   build-mmdb.pl --asn             [options] OUT.mmdb IN.csv...
#   build-mmdb.pl --country-dbip    [options] OUT.mmdb IN.csv...
#   build-mmdb.pl --country-geolite [options] OUT.mmdb IN.csv...
#
# Options: --epoch N (build time in the metadata), --type NAME (database_type
# instead of the default below), --quiet (no summary line on success).
#
# Input rows, no header line (the layout of the ip-location-db CSV files):
#   --asn              ip_range_start,ip_range_end,as_number,as_organization
#   --country-*        ip_range_start,ip_range_end,country_code
# The organization may be quoted CSV style ("Cloudflare, Inc.", "LLC ""X""").
# Empty lines and lines starting with '#' are skipped. IPv4 and IPv6 rows may
# be mixed and several files are read into one database.
#
# Output records:
#   --asn              { autonomous_system_number => uint32,
#                        autonomous_system_organization => utf8_string }
#                      database_type "ip-location-db-asn"
#   --country-dbip     { country_code => "US" }          "DBIP-Country-Lite"
#   --country-geolite  { country => { iso_code => "US" } } "GeoLite2-Country"
#
# The database is IPv6 with the IPv4 space at ::/96 and aliased from
# ::ffff:0:0/96 (IPv4-mapped), 2001::/32 (Teredo) and 2002::/16 (6to4), so
# IPv4 lookups work in it. Rows falling in those aliased IPv6 networks cannot
# be stored; they are clipped out and counted on stderr. Reserved networks
# (documentation, private) are kept so that test data can use them.
#
# --epoch N sets the build time stored in the metadata (for reproducible test
# databases); the default is now. The file is written to OUT.mmdb.tmp and
# renamed, so a failed build never leaves a truncated database behind.
# Exit status: 0 on success, 1 on bad input or a failed write, 2 on usage.

use strict;
use warnings;

use Encode qw(decode);
use File::Basename qw(basename);
use Getopt::Long qw(GetOptions);
use Math::Int128 qw(net_to_uint128 uint128_to_net);
use MaxMind::DB::Writer::Tree;
use Socket qw(AF_INET AF_INET6 inet_pton);

my %MODES = (
    'asn' => {
        type     => 'ip-location-db-asn',
        what     => 'autonomous system numbers',
        nfields  => 4,
    },
    'country-dbip' => {
        type     => 'DBIP-Country-Lite',
        what     => 'countries (DB-IP layout)',
        nfields  => 3,
    },
    'country-geolite' => {
        type     => 'GeoLite2-Country',
        what     => 'countries (GeoLite2 layout)',
        nfields  => 3,
    },
);

my %KEY_TYPES = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country_code                   => 'utf8_string',
    country                        => 'map',
    iso_code                       => 'utf8_string',
);

# IPv6 networks the writer aliases to the IPv4 tree; nothing may be inserted
# into them. [first, last] as packed 16-byte addresses.
my @ALIASED = map { [ net_range($_->[0], $_->[1]) ] } (
    [ '::ffff:0:0', 96 ],
    [ '2001::',     32 ],
    [ '2002::',     16 ],
);

sub usage {
    print STDERR <<"EOF";
usage: build-mmdb.pl --asn|--country-dbip|--country-geolite
                     [--epoch N] [--type NAME] [--quiet] OUT.mmdb IN.csv [IN.csv...]
EOF
    exit 2;
}

# First and last address of an IPv6 network, packed.
sub net_range {
    my ($addr, $plen) = @_;
    my $first = net_to_uint128(inet_pton(AF_INET6, $addr));
    my $size = Math::Int128::uint128(1) << (128 - $plen);
    return (uint128_to_net($first), uint128_to_net($first + $size - 1));
}

# Split the IPv6 range [$s, $e] (packed) around the aliased networks.
# Returns the pieces to insert as [first, last] pairs, packed.
sub clip_aliased {
    my ($s, $e) = @_;
    my @todo = ([ $s, $e ]);
    for my $al (@ALIASED) {
        my ($as, $ae) = @$al;
        my @next;
        for my $r (@todo) {
            my ($rs, $re) = @$r;
            if ($re lt $as || $rs gt $ae) {
                push @next, $r;
                next;
            }
            if ($rs lt $as) {
                push @next, [ $rs, uint128_to_net(net_to_uint128($as) - 1) ];
            }
            if ($re gt $ae) {
                push @next, [ uint128_to_net(net_to_uint128($ae) + 1), $re ];
            }
        }
        @todo = @next;
    }
    return @todo;
}

# Parse one CSV field list; only the last field may be quoted (it is the
# free-text organization name). Returns the fields or an empty list.
sub split_row {
    my ($line, $nfields) = @_;
    my @f = split /,/, $line, $nfields;
    return () if @f != $nfields;
    my $last = $f[-1];
    if (substr($last, 0, 1) eq '"') {
        return () unless $last =~ /\A"((?:[^"]|"")*)"\z/;
        ($f[-1] = $1) =~ s/""/"/g;
    }
    return @f;
}

sub main {
    my ($mode, $epoch, $type, $quiet);
    GetOptions(
        'asn'             => sub { usage() if $mode; $mode = 'asn' },
        'country-dbip'    => sub { usage() if $mode; $mode = 'country-dbip' },
        'country-geolite' => sub { usage() if $mode; $mode = 'country-geolite' },
        'epoch=i'         => \$epoch,
        'type=s'          => \$type,
        'quiet'           => \$quiet,
    ) or usage();
    usage() if !$mode || @ARGV < 2;
    if (defined $epoch && $epoch < 0) {
        print STDERR "build-mmdb.pl: --epoch must not be negative\n";
        exit 2;
    }
    my ($out, @inputs) = @ARGV;
    my $m = $MODES{$mode};
    $type //= $m->{type};

    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 28,
        database_type            => $type,
        languages                => ['en'],
        description              => {
            en => "$m->{what} from " . join(', ', map { basename($_) } @inputs),
        },
        map_key_type_callback    => sub { $KEY_TYPES{ $_[0] } },
        alias_ipv6_to_ipv4       => 1,
        remove_reserved_networks => 0,
    );
    # The writer has no public setter for the metadata build time; this is
    # the one it keeps for reproducible output in its own tests.
    $tree->_set_build_epoch($epoch) if defined $epoch;

    # Identical records share one hash: the writer keys its data section by
    # content, and sharing keeps the in-memory tree small.
    my %records;
    my ($rows, $clipped) = (0, 0);

    for my $in (@inputs) {
        open my $fh, '<:raw', $in or die "build-mmdb.pl: cannot open $in: $!\n";
        while (my $line = <$fh>) {
            $line =~ s/\r?\n\z//;
            next if $line eq '' || substr($line, 0, 1) eq '#';
            my @f = split_row($line, $m->{nfields});
            die "build-mmdb.pl: $in:$.: malformed row, want $m->{nfields} fields: $line\n"
                unless @f;
            my ($start, $end) = @f[ 0, 1 ];

            my $data;
            if ($mode eq 'asn') {
                my ($asn, $org) = @f[ 2, 3 ];
                die "build-mmdb.pl: $in:$.: bad AS number \"$asn\"\n"
                    unless $asn =~ /\A[0-9]{1,10}\z/ && $asn <= 4294967295;
                $org = decode('UTF-8', $org) if $org =~ /[\x80-\xff]/;
                $data = $records{"$asn\0$org"} //= {
                    autonomous_system_number       => $asn + 0,
                    autonomous_system_organization => $org,
                };
            } else {
                my $cc = $f[2];
                die "build-mmdb.pl: $in:$.: bad country code \"$cc\"\n"
                    unless $cc =~ /\A[A-Za-z0-9]{2}\z/;
                $data = $records{$cc} //= $mode eq 'country-dbip'
                    ? { country_code => $cc }
                    : { country => { iso_code => $cc } };
            }

            my @pieces;
            my $s4 = inet_pton(AF_INET, $start);
            if (defined $s4) {
                my $e4 = inet_pton(AF_INET, $end);
                die "build-mmdb.pl: $in:$.: bad range $start - $end\n"
                    if !defined $e4 || $e4 lt $s4;
                @pieces = ([ $start, $end ]);
            } else {
                my $s6 = inet_pton(AF_INET6, $start);
                my $e6 = inet_pton(AF_INET6, $end);
                die "build-mmdb.pl: $in:$.: bad range $start - $end\n"
                    if !defined $s6 || !defined $e6 || $e6 lt $s6;
                @pieces = clip_aliased($s6, $e6);
                if (@pieces != 1 || $pieces[0][0] ne $s6 || $pieces[0][1] ne $e6) {
                    $clipped++;
                    @pieces = map {
                        [ Socket::inet_ntop(AF_INET6, $_->[0]),
                          Socket::inet_ntop(AF_INET6, $_->[1]) ]
                    } @pieces;
                } else {
                    @pieces = ([ $start, $end ]);
                }
            }
            for my $p (@pieces) {
                eval { $tree->insert_range($p->[0], $p->[1], $data); 1 }
                    or die "build-mmdb.pl: $in:$.: $@";
            }
            $rows++;
        }
        close $fh;
    }

    if ($clipped) {
        print STDERR "build-mmdb.pl: $clipped IPv6 range(s) overlapped the networks "
            . "aliased to IPv4 (::ffff:0:0/96, 2001::/32, 2002::/16); that part was left out\n";
    }

    my $tmp = "$out.tmp";
    my $ok = eval {
        open my $ofh, '>:raw', $tmp or die "cannot write $tmp: $!\n";
        $tree->write_tree($ofh);
        close $ofh or die "cannot write $tmp: $!\n";
        rename $tmp, $out or die "cannot rename $tmp to $out: $!\n";
        1;
    };
    if (!$ok) {
        my $err = $@;
        unlink $tmp;
        die "build-mmdb.pl: $err";
    }
    print STDERR "build-mmdb.pl: $out: $rows rows, database_type $type\n" unless $quiet;
    return 0;
}

my $rc = eval { main() };
if (!defined $rc) {
    print STDERR $@;
    exit 1;
}
exit $rc;
