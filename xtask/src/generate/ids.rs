//! `OperationId`: the exhaustive list of operations.

use std::fmt::Write as _;

use super::names::*;

pub(super) fn gen_operation_ids(
    ops: &[(String, String, String, Option<String>)],
    params: &[String],
) -> String {
    // One line per operation, behind the operation's feature gate when it has one.
    let per_op =
        |code: &mut String, indent: &str, line: &dyn Fn(usize, &str, &str, &str) -> String| {
            for (k, (id, group, method, feature)) in ops.iter().enumerate() {
                if let Some(f) = feature {
                    writeln!(code, "{indent}#[cfg(feature = \"{f}\")]").ok();
                }
                let variant = format!("{}{}", pascal(group), pascal(method));
                writeln!(
                    code,
                    "{indent}{}",
                    line(k, id, group, method).replace("{V}", &variant)
                )
                .ok();
            }
        };
    let mut code = String::from(
        "\n/// Every operation of the API, one variant each. The list is exhaustive on purpose: a new\n/// operation in the spec adds a variant, and every `match` over it fails to compile until\n/// the new operation is placed.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum OperationId {\n",
    );
    per_op(&mut code, "    ", &|_, id, group, method| {
        format!("/// `{id}`: `client.{group}().{method}()`.\n    {{V}},")
    });
    code.push_str("}\n\nimpl OperationId {\n    /// All operations compiled into this build, in spec order within each group.\n    pub const ALL: &'static [OperationId] = &[\n");
    per_op(&mut code, "        ", &|_, _, _, _| {
        "OperationId::{V},".to_string()
    });
    code.push_str("    ];\n\n    /// The operation's static description (id, method, path template, base URL).\n    pub fn operation(self) -> &'static crate::request::Operation {\n        match self {\n");
    per_op(&mut code, "            ", &|_, _, group, method| {
        format!(
            "OperationId::{{V}} => &{group}::{}_{},",
            group.to_uppercase(),
            method.to_uppercase()
        )
    });
    code.push_str("        }\n    }\n\n    /// The path and query parameters the spec declares for the operation, in its order.\n    pub fn parameters(self) -> &'static [crate::request::ParamSpec] {\n        match self {\n");
    per_op(&mut code, "            ", &|k, _, _, _| {
        format!("OperationId::{{V}} => {},", params[k])
    });
    code.push_str("        }\n    }\n\n    /// Looks an operation up by its spec `operationId`.\n    pub fn from_spec_id(id: &str) -> Option<OperationId> {\n        Self::ALL.iter().copied().find(|op| op.operation().id == id)\n    }\n\n    /// The resource group and method: `(\"imagine\", \"check\")`.\n    pub fn group_and_method(self) -> (&'static str, &'static str) {\n        match self {\n");
    per_op(&mut code, "            ", &|_, _, group, method| {
        format!(
            "OperationId::{{V}} => ({}, {}),",
            rust_str(group),
            rust_str(method)
        )
    });
    code.push_str("        }\n    }\n}\n");
    code
}
