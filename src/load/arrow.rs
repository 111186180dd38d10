//! Polars frame → DuckDB `arrow(?)` scan through the Arrow C Data Interface, zero-copy:
//! Polars and duckdb-rs use different Arrow crates, which share only the C ABI.

use duckdb::arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use duckdb::vtab::arrow::ArrowBatchRegistration;
use polars::prelude::{CompatLevel, DataFrame};
use polars_arrow::array::{Array, PrimitiveArray, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi;

use crate::error::{Error, ErrorKind, Result};

/// Register `df` for one `arrow(?)` scan. Datetime columns hold UTC instants; they are
/// tagged `UTC` so DuckDB reads them as TIMESTAMPTZ.
pub fn register(df: &mut DataFrame) -> Result<ArrowBatchRegistration> {
    df.rechunk_mut();
    let height = df.height();
    let batch = df
        .iter_chunks(CompatLevel::newest(), false)
        .next()
        .map(|b| b.into_schema_and_arrays());
    let (fields, arrays): (Vec<Field>, Vec<Box<dyn Array>>) = match batch {
        Some((schema, arrays)) => schema
            .iter_values()
            .cloned()
            .zip(arrays)
            .map(|(field, array)| tag_utc(field, array))
            .unzip(),
        // No chunk at all: an empty frame still has a schema.
        None => df
            .columns()
            .iter()
            .map(|c| {
                let field = c.field().to_arrow(CompatLevel::newest());
                let empty = polars_arrow::array::new_empty_array(field.dtype.clone());
                tag_utc(field, empty)
            })
            .unzip(),
    };
    let dtype = ArrowDataType::Struct(fields);
    let array = StructArray::new(dtype.clone(), height, arrays, None);
    let c_array = ffi::export_array_to_c(Box::new(array));
    let c_schema = ffi::export_field_to_c(&Field::new("".into(), dtype, false));
    // SAFETY: both crates define these structs as the Arrow C Data Interface's
    // `struct ArrowArray` / `struct ArrowSchema` (#[repr(C)], same fields). Ownership (the
    // release callback) moves to the arrow-rs values; the originals are forgotten so it
    // is not released twice.
    let (array, schema) = unsafe {
        let a = std::ptr::read(&c_array as *const _ as *const FFI_ArrowArray);
        let s = std::ptr::read(&c_schema as *const _ as *const FFI_ArrowSchema);
        std::mem::forget(c_array);
        std::mem::forget(c_schema);
        (a, s)
    };
    // SAFETY: array and schema were exported together from one valid struct array.
    unsafe { ArrowBatchRegistration::from_ffi(array, schema) }.map_err(|e| {
        Error::new(
            ErrorKind::Failed,
            format!("cannot hand the batch to DuckDB: {e}"),
        )
    })
}

fn tag_utc(mut field: Field, array: Box<dyn Array>) -> (Field, Box<dyn Array>) {
    if let ArrowDataType::Timestamp(unit, None) = field.dtype {
        let dtype = ArrowDataType::Timestamp(unit, Some("UTC".into()));
        let typed = array
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .expect("timestamps are i64")
            .clone()
            .to(dtype.clone());
        field.dtype = dtype;
        return (field, Box::new(typed));
    }
    (field, array)
}
