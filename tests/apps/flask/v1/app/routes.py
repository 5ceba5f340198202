import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.constants import EMAIL_MAX, POST_TITLE_MAX, USERNAME_MAX
from app.extensions import db
from app.models import Post, User

bp = Blueprint("api", __name__)


def _json_body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="expected a JSON object")
    return data


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(409)
def _error(err):
    return jsonify(error=err.description), err.code


@bp.get("/health")
def health():
    db.session.execute(sa.text("SELECT 1"))
    return jsonify(status="ok")


@bp.post("/users")
def create_user():
    data = _json_body()
    username = (data.get("username") or "").strip()
    email = (data.get("email") or "").strip()
    if not username or len(username) > USERNAME_MAX:
        abort(400, description=f"username must be 1 to {USERNAME_MAX} characters")
    if not email or "@" not in email or len(email) > EMAIL_MAX:
        abort(400, description="a valid email is required")
    user = User(username=username, email=email, legacy_flag=bool(data.get("legacy", False)))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(409, description="username or email already taken")
    return jsonify(user.to_dict()), 201


@bp.get("/users")
def list_users():
    users = User.query.order_by(User.id).all()
    return jsonify([u.to_dict() for u in users])


@bp.get("/users/<int:user_id>")
def get_user(user_id):
    user = db.session.get(User, user_id) or abort(404, description="no such user")
    return jsonify(user.to_dict())


@bp.post("/users/<int:user_id>/posts")
def create_post(user_id):
    user = db.session.get(User, user_id) or abort(404, description="no such user")
    if user.legacy_flag:
        abort(403, description="legacy accounts cannot post")
    data = _json_body()
    title = (data.get("title") or "").strip()
    if not title or len(title) > POST_TITLE_MAX:
        abort(400, description=f"title must be 1 to {POST_TITLE_MAX} characters")
    post = Post(title=title, body=data.get("body") or "", author=user)
    db.session.add(post)
    db.session.commit()
    return jsonify(post.to_dict()), 201


@bp.get("/users/<int:user_id>/posts")
def list_posts_of_user(user_id):
    user = db.session.get(User, user_id) or abort(404, description="no such user")
    return jsonify([p.to_dict() for p in user.posts])


@bp.get("/posts")
def list_posts():
    posts = Post.query.order_by(Post.created_at.desc(), Post.id.desc()).limit(50).all()
    return jsonify([p.to_dict() for p in posts])


@bp.delete("/posts/<int:post_id>")
def delete_post(post_id):
    post = db.session.get(Post, post_id) or abort(404, description="no such post")
    db.session.delete(post)
    db.session.commit()
    return "", 204
