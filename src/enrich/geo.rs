//! Country of an address from a MaxMind-format (`.mmdb`) database: ip-location-db's flat
//! `country_code` (the DB-IP database `make geoip` fetches) or GeoIP2's `country.iso_code`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use maxminddb::{PathElement, Reader};

use crate::error::{Error, ErrorKind, Result};

pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl GeoIp {
    pub fn open(path: &Path) -> Result<GeoIp> {
        let reader = Reader::open_readfile(path).map_err(|e| {
            Error::new(
                ErrorKind::NoInput,
                format!("cannot open GeoIP database {}: {e}", path.display()),
            )
        })?;
        Ok(GeoIp { reader })
    }

    /// `make geoip` puts DB-IP's licence beside the database; its CC BY 4.0 asks for credit.
    pub fn attribution(db: &Path) -> Option<String> {
        db.with_file_name("DBIP-LICENSE").exists().then(|| {
            "IP to country data by DB-IP (https://db-ip.com), licensed CC BY 4.0".to_string()
        })
    }

    /// The ISO 3166 code of `addr`, or None (unknown address, private range, not an IP).
    pub fn country(&self, addr: &str) -> Option<Arc<str>> {
        let ip: IpAddr = addr.parse().ok()?;
        let found = self.reader.lookup(ip).ok()?;
        let flat: Option<String> = found
            .decode_path(&[PathElement::Key("country_code")])
            .ok()
            .flatten();
        let code = flat.or_else(|| {
            found
                .decode_path(&[PathElement::Key("country"), PathElement::Key("iso_code")])
                .ok()
                .flatten()
        })?;
        (!code.is_empty()).then(|| Arc::from(code.as_str()))
    }
}
